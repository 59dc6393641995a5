import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  EnvironmentRef,
  Inventory,
  OwnedResource,
  TaskVolume,
  VolumeHandle,
  Volumes,
} from '@matinee/core';

/** A directory name made by Matinee: an environment's (its task family) or a volume's (a DNS label). */
const SAFE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,253}[a-z0-9])?$/;
/** Who a volume directory belongs to, beside its volumes (not a DNS label, so never taken for a volume). */
const OWNER_FILE = '.matinee-owner.json';

function safe(name: string, what: string): string {
  if (!SAFE_NAME.test(name))
    throw new Error(`not a safe ${what} name for a directory: ${JSON.stringify(name)}`);
  return name;
}

/**
 * Volumes on one machine: `<root>/<environment>/<volume>` directories (root: `<data dir>/volumes`), where
 * `<environment>` is the environment's service name (the family's name before it took `_`, so directories
 * made then are still found). They outlive Matinee's restarts; closing the pull
 * request removes them. Every name is checked before it becomes a path, so none escapes `root`.
 */
export class LocalVolumes implements Volumes, Inventory {
  constructor(private readonly root: string) {}

  private environmentDir(ref: EnvironmentRef): string {
    return join(this.root, safe(ref.names.service, 'environment'));
  }

  /** Where volume `name` of `ref` lives. */
  directory(ref: EnvironmentRef, name: string): string {
    return join(this.environmentDir(ref), safe(name, 'volume'));
  }

  async describe(ref: EnvironmentRef): Promise<VolumeHandle[]> {
    const entries = await readdir(this.environmentDir(ref), { withFileTypes: true }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      },
    );
    return entries
      .filter((entry) => entry.isDirectory() && SAFE_NAME.test(entry.name))
      .map((entry) => ({ name: entry.name, source: this.directory(ref, entry.name) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async ensure(ref: EnvironmentRef, volumes: TaskVolume[]): Promise<VolumeHandle[]> {
    const dir = this.environmentDir(ref);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, OWNER_FILE), JSON.stringify({ tags: ref.tags }));
    for (const volume of volumes) {
      const path = this.directory(ref, volume.name);
      await mkdir(path, { recursive: true });
      // A container's user (node: 1000, Postgres: 999) cannot be given the directory here without root:
      // anyone may write into it instead. Only its owner can reach it: the environment's directory is 0700.
      await chmod(path, 0o777);
    }
    return this.describe(ref);
  }

  async empty(ref: EnvironmentRef, names: string[]): Promise<void> {
    for (const name of names) {
      const path = this.directory(ref, name);
      const entries = await readdir(path).catch(() => []);
      await Promise.all(entries.map((entry) => rm(join(path, entry), { recursive: true, force: true })));
    }
  }

  async remove(ref: EnvironmentRef): Promise<void> {
    await rm(this.environmentDir(ref), { recursive: true, force: true });
  }

  /** Each environment's volumes, by the tags written beside them, for the orphan collector. */
  async listOwned(): Promise<OwnedResource[]> {
    const dirs = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    const owned: OwnedResource[] = [];
    for (const dir of dirs) {
      if (!dir.isDirectory() || !SAFE_NAME.test(dir.name)) continue;
      const text = await readFile(join(this.root, dir.name, OWNER_FILE), 'utf8').catch(() => undefined);
      const tags = ownerTags(text);
      const environmentId = tags?.['matinee:environment'];
      const host = tags?.['matinee:host'];
      if (environmentId && host)
        owned.push({ kind: 'volume', arn: join(this.root, dir.name), environmentId, host });
    }
    return owned;
  }
}

function ownerTags(text: string | undefined): Record<string, string> | undefined {
  try {
    const value: unknown = JSON.parse(text ?? '');
    const tags = (value as { tags?: unknown })?.tags;
    if (!tags || typeof tags !== 'object') return undefined;
    return Object.fromEntries(Object.entries(tags).filter(([, v]) => typeof v === 'string')) as Record<
      string,
      string
    >;
  } catch {
    return undefined;
  }
}
