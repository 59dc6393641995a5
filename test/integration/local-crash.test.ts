import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LOCK_FILE, type LockHolder, PREVIEWS_FILE, readWebhookSecret, runCli } from '@matinee/local';
import { afterEach, describe, expect, it } from 'vitest';
import { MAIN, type Running, startEntry } from '../support/entry-point.ts';
import { hostRequest } from '../support/http.ts';
import {
  childrenOf,
  describeProcess,
  groupsOf,
  isRunning,
  processesRunning,
  processesWithVariable,
} from '../support/processes.ts';
import { until } from '../support/until.ts';

/**
 * Matinee ended every way it can end, as processes: killed outright (SIGKILL), with or without its
 * watchdog, and npm killed under it. Each preview is found by its MATINEE_SHA, so the counts are exact.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const SLOW = { timeout: 240_000 };
const WATCHDOG = 'watchdog-main.ts';
const dirs: string[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'matinee-crash-'));
  dirs.push(dir);
  return dir;
}

/** A commit of its own per test: the processes with it in MATINEE_SHA are this test's previews. */
function sha(seed: string): string {
  return seed.repeat(40).slice(0, 40);
}

const previews = (commit: string) => processesWithVariable('MATINEE_SHA', commit);
/** How many copies of the preview of `commit` run (process groups), saying what ran when it is not one. */
function expectOneCopy(commit: string) {
  const running = previews(commit);
  expect(groupsOf(running), running.map(describeProcess).join('\n')).toHaveLength(1);
}
const holder = (dataDir: string) => JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as LockHolder;
const gone = (pids: number[]) => pids.every((pid) => !isRunning(pid));

/** `npm start`'s Matinee, as a process; resolves once it serves, with its port. */
async function startMatinee(dataDir: string): Promise<{ entry: Running; port: number }> {
  const entry = startEntry(MAIN, [], { MATINEE_PORT: '0', MATINEE_DATA_DIR: dataDir });
  cleanups.push(() => entry.kill());
  const port = await until(
    'Matinee serving',
    () => /Matinee is running \(local mode\): http:\/\/localhost:(\d+)/.exec(entry.stdout())?.[1],
    90_000,
  );
  return { entry, port: Number(port) };
}

async function openPullRequest(
  dataDir: string,
  port: number,
  number: number,
  branch: string,
  commit: string,
) {
  await runCli(['open', 'acme/shop', String(number), branch, commit], {
    baseUrl: `http://127.0.0.1:${port}`,
    secret: readWebhookSecret(dataDir) ?? '',
    print: () => {},
  });
}

/** The preview answers through Matinee's router with its own commit. */
async function served(port: number, host: string, commit: string) {
  await until(
    `${host} served`,
    async () => {
      const page = await hostRequest(port, host).catch(() => undefined);
      return page?.status === 200 && page.body.includes(commit.slice(0, 7));
    },
    90_000,
  );
}

/** Matinee's watchdog: its child running watchdog-main.ts. */
const watchdogOf = (matinee: number) =>
  until('the watchdog', () => {
    const found = childrenOf(matinee).filter((pid) => processesRunning(WATCHDOG).includes(pid));
    return found.length === 1 && found[0];
  });

describe('Matinee killed outright', SLOW, () => {
  it('takes its previews with it (its watchdog stops them), and a restart runs each awake one once', async () => {
    const dataDir = tempDir();
    const commit = sha('5');
    const first = await startMatinee(dataDir);
    await openPullRequest(dataDir, first.port, 5, 'crash', commit);
    await served(first.port, 'crash-pr5.localhost', commit);
    expectOneCopy(commit);
    const before = previews(commit);

    first.entry.kill('SIGKILL');
    await until('its previews stopped', () => gone(before), 60_000);

    const next = await startMatinee(dataDir);
    await served(next.port, 'crash-pr5.localhost', commit);
    expectOneCopy(commit);

    const matinee = holder(dataDir).pid;
    const watchdog = await watchdogOf(matinee);
    const running = previews(commit);
    process.kill(matinee, 'SIGTERM');
    expect((await next.entry.exited).code).toBe(0);
    expect(previews(commit)).toEqual([]);
    expect(gone(running)).toBe(true);
    expect(existsSync(join(dataDir, PREVIEWS_FILE))).toBe(false);
    await until('the watchdog gone', () => !isRunning(watchdog), 30_000);
  });

  it('with its watchdog: the next start stops what they left running, then runs each awake preview once', async () => {
    const dataDir = tempDir();
    const commit = sha('6');
    const first = await startMatinee(dataDir);
    await openPullRequest(dataDir, first.port, 6, 'oom', commit);
    await served(first.port, 'oom-pr6.localhost', commit);
    const matinee = holder(dataDir).pid;
    const watchdog = await watchdogOf(matinee);
    expectOneCopy(commit);
    const left = previews(commit);
    const leftGroup = groupsOf(left)[0];
    cleanups.push(() => {
      for (const pid of previews(commit)) process.kill(pid, 'SIGKILL');
    });

    // The OOM killer, or `kill -9` on both: nobody is left to stop the preview.
    process.kill(watchdog, 'SIGKILL');
    process.kill(matinee, 'SIGKILL');
    await first.entry.exited;
    await until('the watchdog gone', () => !isRunning(watchdog));
    expect(previews(commit)).toEqual(left);

    const next = await startMatinee(dataDir);
    await served(next.port, 'oom-pr6.localhost', commit);

    expect(gone(left)).toBe(true);
    expectOneCopy(commit);
    expect(next.entry.stderr()).toMatch(
      new RegExp(
        `stopped what a Matinee that did not stop \\(pid ${matinee}\\) left running: \\S+oom-pr6 \\(pid ${leftGroup}, port \\d+\\)`,
      ),
    );
    const running = previews(commit);
    process.kill(holder(dataDir).pid, 'SIGTERM');
    expect((await next.entry.exited).code).toBe(0);
    expect(gone(running)).toBe(true);
    expect(previews(commit)).toEqual([]);
  });
});

describe('npm killed under Matinee', SLOW, () => {
  it.each([['SIGTERM'], ['SIGHUP'], ['SIGKILL']] as const)(
    '%s to npm stops Matinee and every preview',
    async (signal) => {
      const dataDir = tempDir();
      const commit = sha(signal === 'SIGTERM' ? '7' : signal === 'SIGHUP' ? '8' : '9');
      const npm: ChildProcess = spawn('npm', ['start'], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          MATINEE_PORT: '0',
          MATINEE_DATA_DIR: dataDir,
        },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      cleanups.push(() => {
        try {
          if (npm.pid) process.kill(-npm.pid, 'SIGKILL');
        } catch {
          // gone
        }
      });
      let stdout = '';
      npm.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      npm.stderr?.resume();
      const port = Number(
        await until('Matinee serving', () => /http:\/\/localhost:(\d+)/.exec(stdout)?.[1], 90_000),
      );
      await openPullRequest(dataDir, port, 7, 'npm', commit);
      await served(port, 'npm-pr7.localhost', commit);
      const matinee = holder(dataDir).pid;
      const watchdog = await watchdogOf(matinee);
      expectOneCopy(commit);
      const running = previews(commit);

      process.kill(npm.pid as number, signal);

      await until(
        'Matinee, its watchdog and its preview gone',
        () => gone([matinee, watchdog, ...running]),
        60_000,
      );
      expect(previews(commit)).toEqual([]);
      expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
    },
  );
});
