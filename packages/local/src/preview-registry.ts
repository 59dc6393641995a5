import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeContainers } from './docker-runtime.ts';
import { bootId, liveGroup, type ProcessIdentity, processStart, signalGroup } from './process-table.ts';

/**
 * What a Matinee has running, kept in its data dir as it changes (`<data dir>/previews.json`), so that
 * whatever a Matinee killed outright left behind can be found and stopped: by its watchdog as it dies
 * (watchdog.ts), or by the next Matinee on that data dir as it starts.
 */
export const PREVIEWS_FILE = 'previews.json';

/** One running task: its process group (led by the process Matinee started), its seed's, its containers. */
export interface RunningPreview {
  service: string;
  port: number;
  group: ProcessIdentity;
  seed?: ProcessIdentity;
  containers?: string[];
}

export interface PreviewRecord {
  /** The boot the start times count from: after a reboot nothing recorded runs. */
  boot?: string;
  /** The Matinee that started them. */
  matinee: ProcessIdentity;
  previews: RunningPreview[];
}

/** The identity of a process just started, for the record. */
export function identify(pid: number | undefined): ProcessIdentity | undefined {
  return pid === undefined ? undefined : { pid, start: processStart(pid) };
}

/** Writes the record at once (written aside, then renamed: never half-written). */
export function writePreviewRecord(dataDir: string, previews: RunningPreview[]): void {
  const path = join(dataDir, PREVIEWS_FILE);
  const record: PreviewRecord = {
    boot: bootId(),
    matinee: { pid: process.pid, start: processStart(process.pid) },
    previews,
  };
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}

function isIdentity(value: unknown): value is ProcessIdentity {
  const { pid, start } = (value ?? {}) as Partial<ProcessIdentity>;
  return Number.isSafeInteger(pid) && (pid ?? 0) > 1 && (start === undefined || typeof start === 'string');
}

/** Recorded previews, checked: anything malformed is left out, never signalled. */
export function parsePreviews(value: unknown): RunningPreview[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (p): p is RunningPreview =>
      typeof p?.service === 'string' &&
      isIdentity(p.group) &&
      (p.seed === undefined || isIdentity(p.seed)) &&
      (p.containers === undefined ||
        (Array.isArray(p.containers) && p.containers.every((c: unknown) => typeof c === 'string'))),
  );
}

function parse(text: string): PreviewRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<PreviewRecord>;
    if (!isIdentity(value.matinee) || !Array.isArray(value.previews)) return undefined;
    const boot = typeof value.boot === 'string' ? value.boot : undefined;
    return { boot, matinee: value.matinee, previews: parsePreviews(value.previews) };
  } catch {
    return undefined;
  }
}

export function readPreviewRecord(dataDir: string): PreviewRecord | undefined {
  try {
    return parse(readFileSync(join(dataDir, PREVIEWS_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stops previews as Matinee's own stop does: SIGTERM to each process group, SIGKILL to what is left after
 * `graceMs`, and their containers removed. A group is signalled only while its leader is the very process
 * recorded (same pid, same start time) or, the leader gone, members it left; never a reused pid.
 * Returns the previews that were still running.
 */
export async function stopPreviews(
  previews: RunningPreview[],
  options: { env: Record<string, string>; graceMs?: number },
): Promise<RunningPreview[]> {
  const groups = (preview: RunningPreview) => [preview.group, ...(preview.seed ? [preview.seed] : [])];
  const running = previews.filter((p) => groups(p).some((g) => liveGroup(g).length) || p.containers?.length);
  const live = () => running.flatMap(groups).filter((g) => liveGroup(g).length);
  for (const group of live()) signalGroup(group.pid, 'SIGTERM');
  const deadline = Date.now() + (options.graceMs ?? 5000);
  while (live().length && Date.now() < deadline) await pause(50);
  for (const group of live()) signalGroup(group.pid, 'SIGKILL');
  const containers = running.flatMap((p) => p.containers ?? []);
  if (containers.length) removeContainers(options.env, containers);
  return running;
}

/**
 * At start: stops whatever the record says a previous Matinee on this data dir left running (it was
 * killed outright, and its watchdog with it), then forgets it. Returns what was stopped.
 */
export async function stopLeftovers(
  dataDir: string,
  options: { env: Record<string, string>; graceMs?: number },
): Promise<{ matinee?: ProcessIdentity; stopped: RunningPreview[] }> {
  const record = readPreviewRecord(dataDir);
  const stopped =
    record && (record.boot ?? '') === (bootId() ?? '') ? await stopPreviews(record.previews, options) : [];
  // Forgotten once stopped: a Matinee killed while it stops them leaves the record to the next one.
  rmSync(join(dataDir, PREVIEWS_FILE), { force: true });
  return { matinee: record?.matinee, stopped };
}
