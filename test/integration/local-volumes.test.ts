import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId } from '@matinee/core';
import { type LocalMatinee, readLocalSettings, readWebhookSecret, runCli, startLocal } from '@matinee/local';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../support/fakes.ts';
import { hostRequest } from '../support/http.ts';
import { until as poll } from '../support/until.ts';

// examples/hello, run as its `local.command`, counts the views of its page in its `data` volume.
const ROOT = resolve(import.meta.dirname, '../..');
const ID = environmentId('acme/shop', 7);
const HOST = 'checkout-pr7.localhost';
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

const until = (what: string, probe: () => Promise<boolean>) => poll(what, probe, 15_000);

function cli(matinee: LocalMatinee, dataDir: string, args: string[]) {
  return runCli(args, {
    baseUrl: `http://127.0.0.1:${matinee.port}`,
    secret: readWebhookSecret(dataDir) ?? '',
    print: () => {},
  });
}

/** Opens the page once the preview serves it, and returns the page view count it shows. */
async function view(matinee: LocalMatinee): Promise<number> {
  let count: number | undefined;
  await until('the page is served', async () => {
    const page = await hostRequest(matinee.port, HOST);
    const match = /<span id="visits">(\d+)<\/span>/.exec(page.body);
    count = match ? Number(match[1]) : undefined;
    return page.status === 200 && count !== undefined;
  });
  return count as number;
}

async function phase(matinee: LocalMatinee, wanted: string) {
  await until(wanted, async () => (await matinee.store.get(ID))?.observed.phase === wanted);
}

function setup() {
  const dataDir = mkdtempSync(join(tmpdir(), 'matinee-volumes-'));
  dirs.push(dataDir);
  return dataDir;
}

describe('a volume on npm start (examples/hello)', () => {
  it('keeps the page views through sleep, wake and a push, and not through close and reopen', async () => {
    const dataDir = setup();
    const matinee = await start(dataDir);
    await cli(matinee, dataDir, ['open', 'acme/shop', '7', 'checkout']);

    expect(await view(matinee)).toBe(1);
    await hostRequest(matinee.port, HOST, '/health');
    expect(await view(matinee)).toBe(2);

    await cli(matinee, dataDir, ['sleep', 'acme/shop', '7']);
    await phase(matinee, 'sleeping');
    expect(matinee.cloud.processes()).toEqual([]);
    await cli(matinee, dataDir, ['wake', 'acme/shop', '7']);
    expect(await view(matinee)).toBe(3);

    await cli(matinee, dataDir, ['push', 'acme/shop', '7']);
    await until('the push is served', async () => {
      const env = await matinee.store.get(ID);
      return env?.observed.phase === 'ready' && env.observed.sha === env.desired.sha;
    });
    expect(await view(matinee)).toBe(4);

    await cli(matinee, dataDir, ['close', 'acme/shop', '7']);
    await phase(matinee, 'deleted');
    expect(existsSync(join(dataDir, 'volumes', 'matinee-local-checkout-pr7'))).toBe(false);
    await cli(matinee, dataDir, ['open', 'acme/shop', '7', 'checkout']);
    expect(await view(matinee)).toBe(1);
  });

  it('keeps them across a restart of npm start', async () => {
    const dataDir = setup();
    const first = await start(dataDir);
    await cli(first, dataDir, ['open', 'acme/shop', '7', 'checkout']);
    expect(await view(first)).toBe(1);
    await first.stop();
    running.splice(running.indexOf(first), 1);

    const second = await start(dataDir);

    expect(await view(second)).toBe(2);
  });

  it('empties them from the dashboard, and the preview counts from 1 again', async () => {
    const dataDir = setup();
    const matinee = await start(dataDir);
    await cli(matinee, dataDir, ['open', 'acme/shop', '7', 'checkout']);
    await view(matinee);
    expect(await view(matinee)).toBe(2);

    const reset = await hostRequest(
      matinee.port,
      `localhost:${matinee.port}`,
      `/api/environments/${encodeURIComponent(ID)}/reset-data`,
      {
        method: 'POST',
        headers: { origin: `http://localhost:${matinee.port}`, 'sec-fetch-site': 'same-origin' },
      },
    );

    expect(reset.status).toBe(202);
    await until('reset', async () => (await matinee.store.get(ID))?.volumes?.reset === undefined);
    expect(await view(matinee)).toBe(1);
  });

  it('refuses a reset posted from another site', async () => {
    const dataDir = setup();
    const matinee = await start(dataDir);
    await cli(matinee, dataDir, ['open', 'acme/shop', '7', 'checkout']);
    await view(matinee);

    const forged = await hostRequest(
      matinee.port,
      `localhost:${matinee.port}`,
      `/api/environments/${encodeURIComponent(ID)}/reset-data`,
      { method: 'POST', headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } },
    );

    expect(forged.status).toBe(403);
    expect((await matinee.store.get(ID))?.volumes?.reset).toBeUndefined();
    expect(await view(matinee)).toBe(2);
  });
});
