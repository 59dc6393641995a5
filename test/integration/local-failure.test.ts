import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId } from '@matinee/core';
import { type LocalMatinee, readLocalSettings, startLocal } from '@matinee/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runEntry } from '../support/entry-point.ts';
import { MemoryLogger } from '../support/fakes.ts';
import { hostRequest } from '../support/http.ts';
import { until } from '../support/until.ts';

/**
 * A preview whose app cannot start, locally: what `matinee logs`, the dashboard's API and the failed page
 * say about it. The CLI runs as a process of its own; Matinee in this one.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const APP = resolve(import.meta.dirname, '../fixtures/crashing-app.js');
const ID = environmentId('acme/shop', 7);
const SPAWNS = { timeout: 90_000 };

describe('a preview that fails, locally', SPAWNS, () => {
  let matinee: LocalMatinee;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'matinee-failure-'));
    const config = join(dir, '.matinee.yml');
    writeFileSync(
      config,
      `app: { image: 'x:{sha}', port: 3000, health: /health }\nlocal: { command: node ${APP} }\n`,
    );
    const dataDir = join(dir, 'data');
    const settings = readLocalSettings(
      { PATH: process.env.PATH, MATINEE_PORT: '0', MATINEE_DATA_DIR: dataDir, MATINEE_CONFIG: config },
      ROOT,
    );
    matinee = await startLocal(settings, new MemoryLogger());
    env = { MATINEE_PORT: String(matinee.port), MATINEE_DATA_DIR: dataDir };
    const opened = await runEntry(CLI, ['open', 'acme/shop', '7', 'broken', 'b'.repeat(40)], env);
    expect(opened.code).toBe(0);
    await until('failed', async () => (await matinee.store.get(ID))?.observed.phase === 'failed', 60_000);
  }, 120_000);

  afterAll(async () => {
    await matinee?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('matinee logs prints the reason, the last lines without colours or secrets, and the log file', async () => {
    const result = await runEntry(CLI, ['logs', 'acme/shop', '7'], env);

    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^acme\/shop#7 is failed: stopped 3 times: app exited \(code 1\)/);
    expect(lines).toContain('Error: connect ECONNREFUSED 127.0.0.1:5432');
    expect(lines).toContain('connecting with DATABASE_PASSWORD=[redacted]');
    expect(result.stdout).not.toContain('hunter2');
    expect(result.stdout).not.toContain('\u001b');
    expect(lines.at(-1)).toBe(`whole log: ${join(dir, 'data', 'logs', 'matinee-local-broken-pr7.log')}`);
  });

  it('matinee logs for a pull request Matinee does not know exits 1', async () => {
    const result = await runEntry(CLI, ['logs', 'acme/shop', '8'], env);

    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'acme/shop#8 is not known to this Matinee: npm run matinee -- ls lists them\n',
    });
  });

  it("the failed page says why to anyone with the link, without the app's output", async () => {
    const response = await hostRequest(matinee.port, `broken-pr7.localhost:${matinee.port}`, '/', {
      headers: { accept: 'text/html' },
    });
    const { body } = response;

    expect(response.status).toBe(502);
    expect(body).toContain('This preview failed to start');
    expect(body).toContain('app exited (code 1)');
    expect(body).not.toContain('ECONNREFUSED');
  });
});
