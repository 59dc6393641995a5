import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DataDirInUseError,
  type DataDirLock,
  LOCK_FILE,
  type LockHolder,
  lockDataDir,
  processStart,
} from '@matinee/local';
import { afterEach, describe, expect, it } from 'vitest';

/** One data dir per test; every lock taken is released and every process started is ended afterwards. */
let dataDir: string;
const locks: DataDirLock[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const lock of locks.splice(0)) lock.release();
  for (const cleanup of cleanups.splice(0)) cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

function lock(onStale?: (previous: LockHolder | undefined) => void): DataDirLock {
  const taken = lockDataDir(dataDir, onStale);
  locks.push(taken);
  return taken;
}

const lockFile = () => join(dataDir, LOCK_FILE);
const holder = () => JSON.parse(readFileSync(lockFile(), 'utf8')) as LockHolder;
const writeHolder = (value: unknown) => writeFileSync(lockFile(), JSON.stringify(value));

/** A real process that keeps running until the test ends. */
async function otherProcess(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  cleanups.push(() => child.kill('SIGKILL'));
  await new Promise((started) => child.once('spawn', started));
  return child.pid as number;
}

/** The pid of a process that has exited. */
async function goneProcess(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((exited) => child.once('exit', exited));
  return child.pid as number;
}

describe('one Matinee per data dir', () => {
  it('refuses a second holder while the first runs, naming its pid and port', () => {
    dataDir = mkdtempSync(join(tmpdir(), 'matinee-lock-'));
    lock().setPort(8123);

    expect(() => lock()).toThrow(
      new DataDirInUseError({ pid: process.pid, port: 8123, since: '' }, dataDir).message,
    );
  });

  it('refuses while another live process holds it', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'matinee-lock-'));
    const pid = await otherProcess();
    writeHolder({ pid, processStart: processStart(pid), since: new Date().toISOString() });

    expect(() => lock()).toThrow(`Another Matinee (pid ${pid}, still starting) is using ${dataDir}`);
  });

  it('is free again once released', () => {
    dataDir = mkdtempSync(join(tmpdir(), 'matinee-lock-'));
    lock().release();

    lock();

    expect(holder().pid).toBe(process.pid);
  });

  it('is taken over from a Matinee that died without releasing it', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'matinee-lock-'));
    const pid = await goneProcess();
    writeHolder({ pid, processStart: '1', port: 8080, since: '2026-01-01T00:00:00.000Z' });
    const stale: (LockHolder | undefined)[] = [];

    lock((previous) => stale.push(previous));

    expect(stale).toEqual([expect.objectContaining({ pid })]);
    expect(holder().pid).toBe(process.pid);
  });

  it('is taken over when its pid now belongs to a process that started at another time', () => {
    dataDir = mkdtempSync(join(tmpdir(), 'matinee-lock-'));
    writeHolder({ pid: process.pid, processStart: 'another start', since: '2026-01-01T00:00:00.000Z' });

    lock();

    expect(holder()).toMatchObject({ pid: process.pid, processStart: processStart(process.pid) });
  });

  it('is taken over when the lock file is not one Matinee wrote', () => {
    dataDir = mkdtempSync(join(tmpdir(), 'matinee-lock-'));
    writeFileSync(lockFile(), 'garbage');

    lock();

    expect(holder().pid).toBe(process.pid);
  });

  it('is not removed by a holder whose lock was taken over meanwhile', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'matinee-lock-'));
    const first = lock();
    const pid = await otherProcess();
    writeHolder({ pid, processStart: processStart(pid), since: new Date().toISOString() });

    first.release();

    expect(existsSync(lockFile())).toBe(true);
    expect(holder().pid).toBe(pid);
  });
});
