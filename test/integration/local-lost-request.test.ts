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
 * An app that dies in the middle of a request, behind `npm start`'s router, over real HTTP: the visitor gets
 * the failed page (with the app's last words, for a viewer the link let in), never a bare 502.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const APP = resolve(import.meta.dirname, '../fixtures/stream-app.js');
const ID = environmentId('acme/shop', 9);
const SPAWNS = { timeout: 90_000 };

describe('an app that dies mid-request, locally', SPAWNS, () => {
  let matinee: LocalMatinee;
  let dir: string;
  let host: string;
  let cookie: string;

  const ready = async () => (await matinee.store.get(ID))?.observed.phase === 'ready';
  /** Waits until the router forwards to the app again (its replacement started after the last crash). */
  const routed = () =>
    until(
      'routed to the app',
      async () => (await hostRequest(matinee.port, host, '/streams', { headers: { cookie } })).status === 200,
      30_000,
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'matinee-lost-'));
    const config = join(dir, '.matinee.yml');
    writeFileSync(
      config,
      `app: { image: 'x:{sha}', port: 3000, health: /health }\nlocal: { command: node ${APP} }\n`,
    );
    const dataDir = join(dir, 'data');
    const settings = readLocalSettings(
      {
        PATH: process.env.PATH,
        MATINEE_PORT: '0',
        MATINEE_DATA_DIR: dataDir,
        MATINEE_CONFIG: config,
        MATINEE_ACCESS: 'link',
      },
      ROOT,
    );
    matinee = await startLocal(settings, new MemoryLogger());
    const env = { MATINEE_PORT: String(matinee.port), MATINEE_DATA_DIR: dataDir };
    expect((await runEntry(CLI, ['open', 'acme/shop', '9', 'oom', 'd'.repeat(40)], env)).code).toBe(0);
    await until('ready', ready, 60_000);
    const stored = await matinee.store.get(ID);
    host = `oom-pr9.localhost:${matinee.port}`;
    cookie = `matinee_${stored?.slug}=${stored?.accessSecret}`;
  }, 120_000);

  afterAll(async () => {
    await matinee?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a browser the failed page with what the app last wrote', async () => {
    await routed();

    const response = await hostRequest(matinee.port, host, '/die', {
      headers: { accept: 'text/html', cookie },
    });

    expect(response.status).toBe(502);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.body).toContain('The preview stopped answering');
    expect(response.body).toContain('The app stopped answering this request');
    expect(response.body).toContain('acme/shop#9');
    expect(response.body).toContain('dying on request: out of memory (pretend)');
    expect(response.body).not.toContain('Try again');
  });

  it('tells another client why in JSON, with 502', async () => {
    await routed();

    const response = await hostRequest(matinee.port, host, '/die', {
      headers: { accept: 'application/json', cookie },
    });

    expect(response.status).toBe(502);
    expect(JSON.parse(response.body)).toMatchObject({
      state: 'failed',
      ready: false,
      message: expect.stringContaining('stopped answering'),
    });
  });
});
