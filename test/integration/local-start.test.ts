import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LOCK_FILE, type LocalMatinee, type LockHolder, readLocalSettings, startLocal } from '@matinee/local';
import { afterEach, describe, expect, it } from 'vitest';
import { MAIN, type Running, runEntry, startEntry } from '../support/entry-point.ts';
import { MemoryLogger } from '../support/fakes.ts';
import { until } from '../support/until.ts';

/**
 * `npm start` as a new user runs it: packages/local/src/main.ts through tsx, as a process of its own, judged
 * by what it prints and how it exits.
 */
const ROOT = resolve(import.meta.dirname, '../..');
/** Each test starts tsx and Node; on a busy machine that alone takes seconds. */
const SPAWNS = { timeout: 60_000 };
const dirs: string[] = [];
const running: Running[] = [];
const inProcess: LocalMatinee[] = [];
afterEach(async () => {
  for (const entry of running.splice(0)) entry.kill();
  for (const matinee of inProcess.splice(0)) await matinee.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'matinee-start-'));
  dirs.push(dir);
  return dir;
}

function configFile(text: string): string {
  const path = join(tempDir(), '.matinee.yml');
  writeFileSync(path, text);
  return path;
}

const BAD_CONFIG = 'app:\n  image: x\n  port: 3000\n  healthcheck: /health\nidle: soon\n';
const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at .+\(.*\)$|Error:/m);

describe('npm start refuses to start', SPAWNS, () => {
  it('with an invalid MATINEE_CONFIG: one line per problem, naming the key, then exit 1', async () => {
    const config = configFile(BAD_CONFIG);

    const result = await runEntry(MAIN, [], { MATINEE_CONFIG: config, MATINEE_DATA_DIR: tempDir() });

    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `${config}: \`healthcheck\` is not a key of app (did you mean \`health\`?)`,
      `${config}: idle: not a duration (like 20m, 1h30m, 90s): "soon"`,
    ]);
    expect(result.stdout).not.toContain('Matinee is running');
  });

  it('when MATINEE_CONFIG names no file', async () => {
    const missing = join(tempDir(), 'nowhere.yml');

    const result = await runEntry(MAIN, [], { MATINEE_CONFIG: missing, MATINEE_DATA_DIR: tempDir() });

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`${missing}: no such file (MATINEE_CONFIG names it)\n`);
  });

  it('on a data dir another Matinee holds: one line with its pid and port, exit 1, no stack trace', async () => {
    const dataDir = tempDir();
    const settings = readLocalSettings({ MATINEE_PORT: '0', MATINEE_DATA_DIR: dataDir }, ROOT);
    const first = await startLocal(settings, new MemoryLogger());
    inProcess.push(first);

    const second = await runEntry(MAIN, [], { MATINEE_PORT: '0', MATINEE_DATA_DIR: dataDir });

    expect(second.code).toBe(1);
    expect(second.stderr).toBe(
      `Another Matinee (pid ${process.pid}, http://localhost:${first.port}) is using ${dataDir}: stop it first, or give this one another MATINEE_DATA_DIR\n`,
    );
    noStackTrace(second.stderr);
  });

  it('on a port something else listens on: one line, exit 1, and the data dir left free', async () => {
    const dataDir = tempDir();
    const other = createServer();
    await new Promise<void>((listening) => other.listen(0, '127.0.0.1', listening));
    const { port } = other.address() as AddressInfo;

    const result = await runEntry(MAIN, [], {
      MATINEE_PORT: String(port),
      MATINEE_DATA_DIR: dataDir,
    }).finally(() => other.close());

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`port ${port} is in use: set MATINEE_PORT to another port\n`);
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  });
});

describe('npm start warns', SPAWNS, () => {
  it('about each MATINEE_* variable it does not read, naming the one meant', async () => {
    const result = await runEntry(MAIN, [], {
      MATINEE_PROT: '9090',
      MATINEE_CONFIG: configFile(BAD_CONFIG),
      MATINEE_DATA_DIR: tempDir(),
    });

    expect(result.stderr.split('\n').filter((line) => line.includes('MATINEE_PROT'))).toEqual([
      expect.stringMatching(
        /^\d\d:\d\d:\d\d warn {2}MATINEE_PROT is not a variable Matinee reads: ignored \(did you mean MATINEE_PORT\?\)$/,
      ),
    ]);
  });
});

describe('npm start after a crash', { timeout: 120_000 }, () => {
  it('takes the data dir over from a Matinee killed outright, and gives it up when stopped', async () => {
    const dataDir = tempDir();
    const env = { MATINEE_PORT: '0', MATINEE_DATA_DIR: dataDir };
    const crashed = startEntry(MAIN, [], env);
    running.push(crashed);
    await until('the first Matinee', () => crashed.stdout().includes('Matinee is running'), 60_000);
    const previous = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as LockHolder;
    crashed.kill('SIGKILL');
    await crashed.exited;

    const next = startEntry(MAIN, [], env);
    running.push(next);
    await until('the next Matinee', () => next.stdout().includes('Matinee is running'), 60_000);

    expect(next.stderr()).toContain(
      `taking over ${dataDir} from a Matinee that did not stop (pid ${previous.pid})`,
    );
    // To Matinee itself: tsx, between npm and Matinee, SIGKILLs a child that does not acknowledge a relayed
    // signal within milliseconds, which a busy machine cannot promise.
    const holder = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as LockHolder;
    process.kill(holder.pid, 'SIGTERM');
    expect((await next.exited).code).toBe(0);
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  });
});
