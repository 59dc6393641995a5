import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId } from '@matinee/core';
import { type LocalMatinee, readLocalSettings, readWebhookSecret, runCli, startLocal } from '@matinee/local';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../support/fakes.ts';
import { hostRequest } from '../support/http.ts';
import { until as poll } from '../support/until.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const ID = environmentId('acme/shop', 7);
const running: LocalMatinee[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const matinee of running.splice(0)) await matinee.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(dataDir: string) {
  const settings = readLocalSettings(
    { PATH: process.env.PATH, MATINEE_PORT: '0', MATINEE_DATA_DIR: dataDir },
    ROOT,
  );
  const matinee = await startLocal(settings, new MemoryLogger());
  running.push(matinee);
  return matinee;
}

/** Waits longer than the default: a restart starts the embedded database and the app again. */
const until = (what: string, probe: () => Promise<boolean>) => poll(what, probe, 15_000);

describe('npm start across a restart', () => {
  it('keeps every environment in the embedded database and starts the awake ones again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'matinee-restart-'));
    dirs.push(dataDir);
    const first = await start(dataDir);
    await runCli(['open', 'acme/shop', '7', 'checkout', 'c'.repeat(40)], {
      baseUrl: `http://127.0.0.1:${first.port}`,
      secret: readWebhookSecret(dataDir) ?? '',
      print: () => {},
    });
    await until('ready', async () => (await first.store.get(ID))?.observed.phase === 'ready');
    await first.stop();
    running.splice(running.indexOf(first), 1);
    expect(first.cloud.processes()).toEqual([]);

    const second = await start(dataDir);

    expect((await second.store.get(ID))?.desired).toMatchObject({ phase: 'running', sha: 'c'.repeat(40) });
    await until('served again', async () => {
      const page = await hostRequest(second.port, 'checkout-pr7.localhost');
      return page.status === 200 && page.body.includes('ccccccc');
    });
  });
});
