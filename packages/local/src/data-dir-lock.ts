import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@matinee/core';
import { processStart } from './process-table.ts';

/** What the lock file says about the Matinee that holds a data dir. */
export interface LockHolder {
  pid: number;
  /** When that process started, as the OS tells it: with the pid, it names one process even after pid reuse. */
  processStart?: string;
  /** Where it serves, once it listens. */
  port?: number;
  since: string;
}

export class DataDirInUseError extends UserError {
  constructor(
    readonly holder: LockHolder,
    readonly dataDir: string,
  ) {
    const where = holder.port ? `http://localhost:${holder.port}` : 'still starting';
    super(
      `Another Matinee (pid ${holder.pid}, ${where}) is using ${dataDir}: stop it first, or give this one another MATINEE_DATA_DIR`,
    );
  }
}

export interface DataDirLock {
  readonly path: string;
  /** Records the port the holder serves on, for the message a second start prints. */
  setPort(port: number): void;
  /** Removes the lock if it is still this process's; safe to call more than once. */
  release(): void;
}

export const LOCK_FILE = 'matinee.lock';

export { processStart };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is just not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The holder is the very process that wrote the lock, still running: a live pid with the same start time. */
export function stillHolds(holder: LockHolder): boolean {
  if (!alive(holder.pid)) return false;
  if (holder.processStart === undefined) return true;
  const start = processStart(holder.pid);
  return start === undefined || start === holder.processStart;
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    return Number.isSafeInteger(value.pid) && (value.pid ?? 0) > 0 ? (value as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function tempPath(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
}

/** Creates `path` with `text` only if nothing is there: written aside, then hard-linked, so never half-written. */
function createExclusive(path: string, text: string): boolean {
  const temp = tempPath(path);
  writeFileSync(temp, text, { mode: 0o644 });
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temp);
  }
}

/**
 * Moves aside the lock judged stale and deletes it, unless another starting Matinee replaced it meanwhile
 * (then its lock is put back).
 */
function removeStale(path: string, judged: string): void {
  const aside = tempPath(path);
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    if (readFileSync(aside, 'utf8') !== judged) linkSync(aside, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(aside);
  }
}

/**
 * Makes this process the only Matinee using `dataDir` (the embedded database is not safe to share). A lock
 * left by a Matinee that died without cleaning up (SIGKILL, a crash, a reboot) is taken over: its pid is
 * gone, or belongs to a process that started at another time.
 */
export function lockDataDir(
  dataDir: string,
  onStale: (previous: LockHolder | undefined) => void = () => {},
): DataDirLock {
  // 0700 as the rest of local mode makes it: the data dir holds the webhook secret and the database.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, LOCK_FILE);
  const mine: LockHolder = {
    pid: process.pid,
    processStart: processStart(process.pid),
    since: new Date().toISOString(),
  };
  const text = () => `${JSON.stringify(mine)}\n`;
  let released = false;
  const ours = () => {
    const holder = parseHolder(readText(path) ?? '');
    return holder?.pid === mine.pid && holder.since === mine.since;
  };
  const lock: DataDirLock = {
    path,
    setPort(port) {
      if (released || !ours()) return;
      mine.port = port;
      const temp = tempPath(path);
      writeFileSync(temp, text(), { mode: 0o644 });
      renameSync(temp, path);
    },
    release() {
      if (released) return;
      released = true;
      if (ours()) unlinkSync(path);
    },
  };
  // A few rounds: each lost race means another Matinee just took it or just gave it up.
  for (let round = 0; round < 5; round++) {
    if (createExclusive(path, text())) return lock;
    const found = readText(path);
    if (found === undefined) continue;
    const holder = parseHolder(found);
    if (holder && stillHolds(holder)) throw new DataDirInUseError(holder, dataDir);
    onStale(holder);
    removeStale(path, found);
  }
  throw new Error(`could not lock ${dataDir}: ${path} keeps changing`);
}
