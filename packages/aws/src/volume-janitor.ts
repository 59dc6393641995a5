import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod/mini';

/**
 * The one party that touches volume data on AWS besides the previews themselves. Deleting an EFS access
 * point leaves its directory and files, so whatever deletes data must mount the file system: the janitor is
 * a Lambda function in the stage's VPC with the stage's directory (`/<stage>`) mounted as root. It is called
 * synchronously by reconcile and resync, so a call that returns means the data is gone (see README,
 * "Volumes on AWS"). Paths it is given are an environment's directory (`<slug>`) and a volume's
 * (`<slug>/<volume>`), each segment a DNS label: nothing can name a path outside the mount.
 */
export interface VolumeJanitor {
  /** Writes who owns environment directory `dir` beside its volumes, for the orphan collector. */
  claim(dir: string, tags: Record<string, string>): Promise<void>;
  /** Deletes everything inside each volume directory, keeping the directories (their owner and mode). */
  empty(volumeDirs: string[]): Promise<void>;
  /** Deletes environment directory `dir` and everything in it. Absent already is success. */
  remove(dir: string): Promise<void>;
  /** Every environment directory, with the tags `claim` wrote (none when it wrote none). */
  list(): Promise<{ dir: string; tags: Record<string, string> }[]>;
}

/** An environment's slug or a volume's name: a DNS label, never `.`, `..` or anything with a slash. */
const segment = z.string().check(z.regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/));
const environmentDir = segment;
const volumeDir = z.string().check(
  z.refine((value) => {
    const parts = value.split('/');
    return parts.length === 2 && parts.every((part) => segment.safeParse(part).success);
  }, 'a volume directory is <environment>/<volume>'),
);

/** What the janitor function accepts: the event is hostile until parsed (anyone allowed to invoke it). */
export const janitorRequest = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('claim'),
    dir: environmentDir,
    tags: z.record(z.string().check(z.maxLength(128)), z.string().check(z.maxLength(256))),
  }),
  z.strictObject({ action: z.literal('empty'), dirs: z.array(volumeDir).check(z.maxLength(100)) }),
  z.strictObject({ action: z.literal('remove'), dir: environmentDir }),
  z.strictObject({ action: z.literal('list') }),
]);
export type JanitorRequest = z.output<typeof janitorRequest>;

/** Written beside an environment's volumes; not a DNS label, so never taken for a volume. */
export const OWNER_FILE = '.matinee-owner.json';

/** The janitor's work on a mounted directory (`/mnt/volumes` in the function; a temporary one in tests). */
export class FileJanitor implements VolumeJanitor {
  constructor(private readonly root: string) {}

  async claim(dir: string, tags: Record<string, string>): Promise<void> {
    const path = join(this.root, environmentDir.parse(dir));
    // 0755: a preview's access point reaches its own volume directory beneath, whose mode protects it.
    await mkdir(path, { recursive: true, mode: 0o755 });
    await writeFile(join(path, OWNER_FILE), JSON.stringify({ tags }), { mode: 0o600 });
  }

  async empty(volumeDirs: string[]): Promise<void> {
    for (const dir of volumeDirs) {
      const path = join(this.root, volumeDir.parse(dir));
      const entries = await readdir(path).catch(absentAsEmpty);
      for (const entry of entries) await rm(join(path, entry), { recursive: true, force: true });
    }
  }

  async remove(dir: string): Promise<void> {
    await rm(join(this.root, environmentDir.parse(dir)), { recursive: true, force: true });
  }

  async list(): Promise<{ dir: string; tags: Record<string, string> }[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(absentAsEmpty);
    const found: { dir: string; tags: Record<string, string> }[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory() || !segment.safeParse(entry.name).success) continue;
      const text = await readFile(join(this.root, entry.name, OWNER_FILE), 'utf8').catch(() => undefined);
      found.push({ dir: entry.name, tags: ownerTags(text) });
    }
    return found.sort((a, b) => a.dir.localeCompare(b.dir));
  }

  /** Carries out one parsed request (the function's body). */
  async run(request: JanitorRequest): Promise<unknown> {
    switch (request.action) {
      case 'claim':
        return this.claim(request.dir, request.tags);
      case 'empty':
        return this.empty(request.dirs);
      case 'remove':
        return this.remove(request.dir);
      case 'list':
        return this.list();
    }
  }
}

function absentAsEmpty(error: NodeJS.ErrnoException): never[] {
  if (error.code === 'ENOENT') return [];
  throw error;
}

const ownerFile = z.object({ tags: z.record(z.string(), z.string()) });

/** The tags in an owner file; a file written by something else (or torn) names no owner. */
function ownerTags(text: string | undefined): Record<string, string> {
  try {
    return ownerFile.parse(JSON.parse(text ?? '')).tags;
  } catch {
    return {};
  }
}
