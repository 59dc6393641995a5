import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId } from '@matinee/core';
import {
  type LocalMatinee,
  readLocalSettings,
  readWebhookSecret,
  startLocal,
  webhookSecretPath,
} from '@matinee/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../support/fakes.ts';
import { hostRequest } from '../support/http.ts';
import { tcpListenPorts } from '../support/listeners.ts';
import { until } from '../support/until.ts';
import { delivery, example } from '../support/webhooks.ts';

/**
 * What `npm start` listens on, called by someone other than GitHub, the CLI or the dashboard: a web page
 * the developer has open (which can send requests to localhost, and can rebind a name of its own to
 * 127.0.0.1), or anything else on the machine.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const OPENED = example('pull_request', 'opened');
const ID = environmentId(OPENED.repository.full_name, OPENED.number);

let matinee: LocalMatinee;
let dataDir: string;
let opened: number[];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'matinee-sec-local-'));
  const before = tcpListenPorts();
  const settings = readLocalSettings(
    { PATH: process.env.PATH, MATINEE_PORT: '0', MATINEE_DATA_DIR: dataDir, MATINEE_SWEEP_EVERY: '1h' },
    ROOT,
  );
  matinee = await startLocal(settings, new MemoryLogger());
  opened = tcpListenPorts().filter((port) => !before.includes(port));
}, 60_000);

afterAll(async () => {
  await matinee?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A signed `pull_request.opened` delivery, posted with `headers` added. */
async function postWebhook(secret: string, headers: Record<string, string> = {}) {
  const signed = await delivery('pull_request', OPENED, { secret });
  return hostRequest(matinee.port, `localhost:${matinee.port}`, '/webhooks/github', {
    method: 'POST',
    headers: { ...signed.headers, ...headers },
    body: signed.body,
  });
}

describe('local mode, seen from the rest of the machine', () => {
  it('listens on one TCP port, the router; its database on none', () => {
    expect(opened).toEqual([matinee.port]);
  });

  it('signs webhooks with a secret of its own, readable by this user only, not a public default', async () => {
    const secret = readWebhookSecret(dataDir) ?? '';

    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(webhookSecretPath(dataDir)).mode & 0o777).toBe(0o600);
    expect((await postWebhook('matinee-local-secret')).status).toBe(401);
    expect(await matinee.store.get(ID)).toBeUndefined();
  });

  it.each([
    ['origin', 'http://attacker.example'],
    ['sec-fetch-site', 'cross-site'],
    ['sec-fetch-mode', 'no-cors'],
    ['sec-fetch-dest', 'document'],
  ])('refuses a correctly signed webhook carrying %s, which only a web page sends', async (name, value) => {
    const answer = await postWebhook(readWebhookSecret(dataDir) ?? '', { [name]: value });

    expect(answer.status).toBe(403);
    expect(await matinee.store.get(ID)).toBeUndefined();
  });
});

describe('the webhook endpoint, for what is not a browser', () => {
  it("accepts Sec-Fetch-Mode: cors alone, which Node's own fetch sends (the CLI, smee-client)", async () => {
    const answer = await postWebhook(readWebhookSecret(dataDir) ?? '', { 'sec-fetch-mode': 'cors' });

    expect(answer.status).toBeLessThan(300);
    await until('the environment', async () => (await matinee.store.get(ID)) !== undefined);
  });
});

describe('the control API under a rebound host name (DNS rebinding)', () => {
  beforeAll(async () => {
    expect((await postWebhook(readWebhookSecret(dataDir) ?? '')).status).toBeLessThan(300);
    await until('the environment', async () => (await matinee.store.get(ID)) !== undefined);
  });

  it('is served on localhost, 127.0.0.1 and [::1] only', async () => {
    for (const host of ['localhost', '127.0.0.1', '[::1]']) {
      const answer = await hostRequest(matinee.port, `${host}:${matinee.port}`, '/api/environments');
      expect(answer.body).toContain(ID);
    }
  });

  it('gives a page on a name rebound to 127.0.0.1 nothing: no list, no environment, no dashboard', async () => {
    const rebound = `rebound.attacker.example:${matinee.port}`;
    const id = encodeURIComponent(ID);
    for (const path of ['/api/environments', `/api/environments/${id}`, '/']) {
      const answer = await hostRequest(matinee.port, rebound, path, { headers: { accept: 'text/html' } });
      expect(answer.body).not.toContain(ID);
      expect(answer.body).not.toContain(OPENED.repository.full_name);
      expect(answer.headers['content-type']).not.toMatch(/json/);
    }
  });

  it('lets a rebound page run no action, though it is same-origin with itself', async () => {
    const rebound = `rebound.attacker.example:${matinee.port}`;
    const before = await matinee.store.get(ID);

    const answer = await hostRequest(
      matinee.port,
      rebound,
      `/api/environments/${encodeURIComponent(ID)}/sleep`,
      {
        method: 'POST',
        headers: { origin: `http://${rebound}`, 'sec-fetch-site': 'same-origin' },
      },
    );
    await matinee.settled();

    expect(answer.status).not.toBe(202);
    expect((await matinee.store.get(ID))?.desired).toEqual(before?.desired);
  });
});
