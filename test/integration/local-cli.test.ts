import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId } from '@matinee/core';
import { CLI_USAGE, freePort, type LocalMatinee, readLocalSettings, startLocal } from '@matinee/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runEntry } from '../support/entry-point.ts';
import { MemoryLogger } from '../support/fakes.ts';
import { until } from '../support/until.ts';

/**
 * `npm run matinee -- …` as a person or a script runs it: packages/local/src/matinee-cli.ts as a process of
 * its own, judged by stdout, stderr and exit status. The `ls` cases talk to a real local Matinee.
 */
const ROOT = resolve(import.meta.dirname, '../..');
/** Each test starts tsx and Node; on a busy machine that alone takes seconds. */
const SPAWNS = { timeout: 60_000 };
const usageText = `${CLI_USAGE}\n`;

describe('the CLI without a Matinee', SPAWNS, () => {
  it.each([['--help'], ['-h'], ['help']])('prints usage for %s and exits 0', async (flag) => {
    const result = await runEntry(CLI, [flag]);

    expect(result).toEqual({ code: 0, stdout: usageText, stderr: '' });
  });

  it('prints usage for an unknown command and exits 2', async () => {
    const result = await runEntry(CLI, ['deploy', 'acme/shop', '42']);

    expect(result).toEqual({ code: 2, stdout: '', stderr: `unknown command "deploy"\n\n${usageText}` });
  });

  it('prints usage for a missing argument and exits 2', async () => {
    const result = await runEntry(CLI, ['open', 'acme/shop', '42']);

    expect(result).toEqual({ code: 2, stdout: '', stderr: `open needs <branch>\n\n${usageText}` });
  });

  it('never takes a flag for an argument', async () => {
    const result = await runEntry(CLI, ['push', 'acme/shop', '42', '--merged']);

    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('push does not take "--merged"');
  });

  it('says in one line that nothing listens at MATINEE_PORT, and exits 3', async () => {
    const port = await freePort();

    const result = await runEntry(CLI, ['ls'], { MATINEE_PORT: String(port) });

    expect(result).toEqual({
      code: 3,
      stdout: '',
      stderr: `Nothing is listening on 127.0.0.1:${port} (MATINEE_PORT): start Matinee with \`npm start\`, or set MATINEE_PORT to its port\n`,
    });
  });

  it('says in one line that no Matinee has made a webhook secret in MATINEE_DATA_DIR, and exits 3', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'matinee-cli-'));

    const result = await runEntry(CLI, ['wake', 'acme/shop', '42'], { MATINEE_DATA_DIR: dataDir }).finally(
      () => rmSync(dataDir, { recursive: true, force: true }),
    );

    expect(result).toEqual({
      code: 3,
      stdout: '',
      stderr: `no webhook secret in ${dataDir}: start Matinee first (npm start), with the same MATINEE_DATA_DIR\n`,
    });
  });

  it('says so when something other than Matinee answers at MATINEE_PORT, and exits 3', async () => {
    const other: Server = createServer((_, response) => response.end('<html>not matinee</html>'));
    await new Promise<void>((listening) => other.listen(0, '127.0.0.1', listening));
    const { port } = other.address() as { port: number };

    const result = await runEntry(CLI, ['ls'], { MATINEE_PORT: String(port) }).finally(() => other.close());

    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      new RegExp(
        `^Something on 127.0.0.1:${port} \\(MATINEE_PORT\\) answered HTTP 200, but not as Matinee does`,
      ),
    );
  });
});

describe('the CLI against an answer it must not trust', SPAWNS, () => {
  it("prints a refusal's message on one line without control characters, and exits 1", async () => {
    const refusing: Server = createServer((_, response) => {
      response.writeHead(409, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: 'no\u001b[2J\nway' }));
    });
    await new Promise<void>((listening) => refusing.listen(0, '127.0.0.1', listening));
    const { port } = refusing.address() as { port: number };

    const result = await runEntry(CLI, ['ls'], { MATINEE_PORT: String(port) }).finally(() =>
      refusing.close(),
    );

    expect(result).toEqual({ code: 1, stdout: '', stderr: 'Matinee refused it (409): no?[2J?way\n' });
  });
});

describe('the CLI against a running Matinee', SPAWNS, () => {
  let matinee: LocalMatinee;
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'matinee-cli-'));
    const settings = readLocalSettings(
      { PATH: process.env.PATH, MATINEE_PORT: '0', MATINEE_DATA_DIR: dataDir },
      ROOT,
    );
    matinee = await startLocal(settings, new MemoryLogger());
    env = { MATINEE_PORT: String(matinee.port), MATINEE_DATA_DIR: dataDir };
  }, 60_000);

  afterAll(async () => {
    await matinee?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('opens a pull request', async () => {
    const result = await runEntry(CLI, ['open', 'acme/shop', '42', 'fix-login', 'a'.repeat(40)], env);

    expect(result).toMatchObject({ code: 0, stderr: '' });
    await until(
      'ready',
      async () => (await matinee.store.get(environmentId('acme/shop', 42)))?.observed.phase === 'ready',
      30_000,
    );
  });

  it('lists it as a table: pull request, state, commit, URL, sleeps in', async () => {
    const result = await runEntry(CLI, ['ls'], env);

    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PULL REQUEST +STATE +COMMIT +URL +SLEEPS IN$/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^acme/shop#42 +ready +aaaaaaa +http://fix-login-pr42\\.localhost:${matinee.port} +(\\d+ min|1 h)$`,
        ),
      ),
    ]);
  });

  it('lists it as JSON for scripts', async () => {
    const result = await runEntry(CLI, ['ls', '--json'], env);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({ repo: 'acme/shop', number: 42, state: 'ready', sha: 'a'.repeat(40) }),
    ]);
  });

  it('exits 1 with what Matinee said when it cannot do it', async () => {
    const result = await runEntry(CLI, ['push', 'acme/shop', '43'], env);

    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'acme/shop#43 is not known to this Matinee: open it first (open acme/shop 43 <branch>)\n',
    });
  });
});
