import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PREVIEWS_FILE,
  type PreviewRecord,
  processStart,
  readPreviewRecord,
  stopLeftovers,
  writePreviewRecord,
} from '@matinee/local';
import { afterEach, describe, expect, it } from 'vitest';
import { groupMembers, isRunning } from '../support/processes.ts';
import { until } from '../support/until.ts';

/**
 * The data dir's record of running previews, and what a start does with a record a killed Matinee left:
 * real processes, stopped only when they are the very ones recorded.
 */
let dataDir: string;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

const ENV = { PATH: process.env.PATH ?? '' };

/** A process in a group of its own, as a preview runs; `script` is its shell command. */
async function group(script = 'sleep 300'): Promise<number> {
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  const pid = child.pid as number;
  cleanups.push(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  });
  await new Promise((started) => child.once('spawn', started));
  return pid;
}

const recordFile = () => join(dataDir, PREVIEWS_FILE);
const record = () => JSON.parse(readFileSync(recordFile(), 'utf8')) as PreviewRecord;

describe('the record of running previews', () => {
  it('is written whole, naming this Matinee and each process group with its start time', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'matinee-previews-'));
    const pid = await group();

    writePreviewRecord(dataDir, [{ service: 'a', port: 4001, group: { pid, start: processStart(pid) } }]);

    expect(record()).toMatchObject({
      matinee: { pid: process.pid, start: processStart(process.pid) },
      previews: [{ service: 'a', port: 4001, group: { pid, start: processStart(pid) } }],
    });
    expect(readPreviewRecord(dataDir)?.previews).toHaveLength(1);
  });

  it('at the next start, stops the groups it names and forgets them', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'matinee-previews-'));
    const pid = await group();
    writePreviewRecord(dataDir, [{ service: 'a', port: 4001, group: { pid, start: processStart(pid) } }]);

    const { stopped } = await stopLeftovers(dataDir, { env: ENV, graceMs: 2000 });

    expect(stopped.map((p) => p.group.pid)).toEqual([pid]);
    await until('stopped', () => !isRunning(pid));
    expect(existsSync(recordFile())).toBe(false);
  });

  it('stops what a group left running after its leader exited', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'matinee-previews-'));
    const leader = await group('sleep 300 & sleep 0.5');
    const start = processStart(leader);
    await until('the leader gone, its background child still running', () => !isRunning(leader));
    expect(groupMembers(leader)).toHaveLength(1);
    writePreviewRecord(dataDir, [{ service: 'a', port: 4001, group: { pid: leader, start } }]);

    const { stopped } = await stopLeftovers(dataDir, { env: ENV, graceMs: 2000 });

    expect(stopped).toHaveLength(1);
    await until('the group emptied', () => groupMembers(leader).length === 0);
  });

  it('never signals a pid that now belongs to another process (another start time)', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'matinee-previews-'));
    const pid = await group();
    writePreviewRecord(dataDir, [{ service: 'a', port: 4001, group: { pid, start: 'another start' } }]);

    const { stopped } = await stopLeftovers(dataDir, { env: ENV, graceMs: 200 });

    expect(stopped).toEqual([]);
    expect(isRunning(pid)).toBe(true);
  });

  it('is ignored when written before this boot, and when it is not one Matinee wrote', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'matinee-previews-'));
    const pid = await group();
    writeFileSync(
      recordFile(),
      JSON.stringify({
        boot: 'another boot',
        matinee: { pid: 12345 },
        previews: [{ service: 'a', port: 1, group: { pid, start: processStart(pid) } }],
      }),
    );
    expect((await stopLeftovers(dataDir, { env: ENV })).stopped).toEqual([]);

    writeFileSync(recordFile(), 'garbage');
    expect((await stopLeftovers(dataDir, { env: ENV })).stopped).toEqual([]);

    writeFileSync(
      recordFile(),
      JSON.stringify({ matinee: { pid: 12345 }, previews: [{ service: 'a', group: { pid: -1 } }] }),
    );
    expect((await stopLeftovers(dataDir, { env: ENV })).stopped).toEqual([]);
    expect(isRunning(pid)).toBe(true);
  });
});
