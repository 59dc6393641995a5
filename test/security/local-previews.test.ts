import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConflictError, type Environment, environmentId } from '@matinee/core';
import { type LocalMatinee, readLocalSettings, readWebhookSecret, runCli, startLocal } from '@matinee/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../support/fakes.ts';
import { hostRequest } from '../support/http.ts';
import { until as poll } from '../support/until.ts';

/**
 * What a local preview runs, and with what: only the repository's own `.matinee.yml` decides the command,
 * whatever the store says, and the app gets none of Matinee's own variables.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const HELLO = resolve(ROOT, 'examples/hello');
const ID = environmentId('acme/shop', 5);
const HOST = 'checkout-pr5.localhost';

let matinee: LocalMatinee;
let dir: string;
let dataDir: string;
let marker: string;
let envDump: string;

const until = <T>(what: string, probe: () => Promise<T | undefined | false>) => poll(what, probe, 15_000);
const cli = (...argv: string[]) =>
  runCli(argv, {
    baseUrl: `http://127.0.0.1:${matinee.port}`,
    secret: readWebhookSecret(dataDir) ?? '',
    print: () => {},
  });
const phase = async () => (await matinee.store.get(ID))?.observed.phase;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'matinee-sec-previews-'));
  dataDir = join(dir, 'data');
  marker = join(dir, 'tampered-command-ran');
  envDump = join(dir, 'app-env');
  const configPath = join(dir, '.matinee.yml');
  writeFileSync(
    configPath,
    `app: { image: x, port: 3000, health: /health }\nlocal: { command: 'env > ${envDump}; exec node server.js', cwd: ${HELLO} }\n`,
  );
  const settings = readLocalSettings(
    {
      PATH: process.env.PATH,
      MATINEE_PORT: '0',
      MATINEE_DATA_DIR: dataDir,
      MATINEE_CONFIG: configPath,
      MATINEE_SWEEP_EVERY: '1h',
      MATINEE_WEBHOOK_SECRET: 'hush-webhook-secret',
      AWS_SECRET_ACCESS_KEY: 'hush-aws-secret',
      GITHUB_TOKEN: 'hush-github-token',
    },
    ROOT,
  );
  // As with MATINEE_WEBHOOK_SECRET unset: the CLI finds the secret in the data dir.
  matinee = await startLocal({ ...settings, webhookSecret: undefined }, new MemoryLogger());
  await cli('open', 'acme/shop', '5', 'checkout', 'd'.repeat(40));
  await until('ready', async () => (await phase()) === 'ready');
}, 60_000);

afterAll(async () => {
  await matinee?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a local preview', () => {
  it("gets the app's variables and what a process needs, none of Matinee's secrets or credentials", () => {
    const env = readFileSync(envDump, 'utf8');

    expect(env).toMatch(/^PORT=\d+$/m);
    expect(env).toMatch(/^MATINEE_BRANCH=checkout$/m);
    expect(env).toMatch(/^PATH=/m);
    expect(env).not.toContain('hush-');
    expect(env).not.toContain(readWebhookSecret(dataDir));
  });

  it('runs the command of .matinee.yml, not one written into its stored record, when it wakes', async () => {
    await cli('sleep', 'acme/shop', '5');
    await until('asleep', async () => (await phase()) === 'sleeping');
    // As a web page could do on the old unauthenticated database: another command, and another digest so
    // that it is taken for a new revision. Retried if Matinee itself writes the record meanwhile.
    await until('the record rewritten', async () => {
      await matinee.settled();
      const stored = (await matinee.store.get(ID)) as Environment;
      if (stored.config?.status !== 'ok') throw new Error('config not loaded');
      const command = ['sh', '-c', `touch ${marker}`];
      const config = { ...stored.config, digest: 'fffffffffffffff0' };
      return matinee.store
        .save({
          ...stored,
          config: { ...config, value: { ...config.value, local: { command, cwd: HELLO } } },
        })
        .catch((error) => (error instanceof ConflictError ? undefined : Promise.reject(error)));
    });

    const waking = await hostRequest(matinee.port, HOST, '/', { headers: { accept: 'text/html' } });
    const served = await until('the app again', async () => {
      if (existsSync(marker)) throw new Error('the command written into the store ran');
      const page = await hostRequest(matinee.port, HOST);
      return page.status === 200 && page.body;
    });

    expect(waking.body).toContain('Waking up');
    expect(served).toContain('Hello from <code>checkout</code>');
    expect(existsSync(marker)).toBe(false);
  });
});
