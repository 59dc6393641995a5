import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId } from '@matinee/core';
import { type LocalMatinee, readLocalSettings, readWebhookSecret, runCli, startLocal } from '@matinee/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runEntry } from '../support/entry-point.ts';
import { MemoryLogger } from '../support/fakes.ts';
import { hostRequest } from '../support/http.ts';
import { until } from '../support/until.ts';

/** `npm run matinee -- push` against a real local Matinee: a new commit, and a closed pull request. */
const ROOT = resolve(import.meta.dirname, '../..');
const ID = environmentId('acme/shop', 9);
const HOST = 'checkout-pr9.localhost';
const SHA_1 = '1'.repeat(40);
const SHA_2 = '2'.repeat(40);

describe('matinee push', { timeout: 60_000 }, () => {
  let matinee: LocalMatinee;
  let dataDir: string;
  let env: Record<string, string>;
  const cli = (argv: string[]) =>
    runCli(argv, {
      baseUrl: `http://127.0.0.1:${matinee.port}`,
      secret: readWebhookSecret(dataDir) ?? '',
      print: () => {},
    });
  const stored = async () => matinee.store.get(ID);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'matinee-push-'));
    const settings = readLocalSettings(
      { PATH: process.env.PATH, MATINEE_PORT: '0', MATINEE_DATA_DIR: dataDir, MATINEE_IDLE: '20m' },
      ROOT,
    );
    matinee = await startLocal(settings, new MemoryLogger());
    env = { MATINEE_PORT: String(matinee.port), MATINEE_DATA_DIR: dataDir };
  }, 60_000);

  afterAll(async () => {
    await matinee?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('to an awake preview serves the new commit and counts its idle time from when it was ready', async () => {
    await cli(['open', 'acme/shop', '9', 'checkout', SHA_1]);
    await until('the first commit served', async () => (await stored())?.observed.sha === SHA_1, 30_000);
    const pushedAt = Date.now();

    await cli(['push', 'acme/shop', '9', SHA_2]);

    const served = await until(
      'the new commit served',
      async () => {
        const env = await stored();
        return env?.observed.phase === 'ready' && env.observed.sha === SHA_2 && env;
      },
      30_000,
    );
    expect(Date.parse(served.servingSince ?? '')).toBeGreaterThanOrEqual(pushedAt);
    const list = await (await fetch(`http://127.0.0.1:${matinee.port}/api/environments`)).json();
    expect(list).toEqual([
      expect.objectContaining({
        id: ID,
        sleepsAt: new Date(Date.parse(served.servingSince ?? '') + 20 * 60_000).toISOString(),
      }),
    ]);
    expect((await hostRequest(matinee.port, HOST)).body).toContain('2222222');
  });

  it('to a closed pull request is refused: exit 1 with the reason, and its preview stays removed', async () => {
    await cli(['close', 'acme/shop', '9']);
    await until('removed', async () => (await stored())?.observed.phase === 'deleted', 30_000);

    const result = await runEntry(CLI, ['push', 'acme/shop', '9', '3'.repeat(40)], env);

    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'Matinee refused it: acme/shop#9 is closed: pull_request.synchronize does not bring its preview back; reopen the pull request first\n',
    });
    expect((await stored())?.desired).toMatchObject({ phase: 'deleted', sha: SHA_2 });
    expect(matinee.cloud.processes()).toEqual([]);
  });
});
