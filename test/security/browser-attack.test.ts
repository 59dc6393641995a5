import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId } from '@matinee/core';
import { type LocalMatinee, readLocalSettings, readWebhookSecret, runCli, startLocal } from '@matinee/local';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLogger } from '../support/fakes.ts';
import { tcpListenPorts } from '../support/listeners.ts';
import { until } from '../support/until.ts';

/**
 * The attack that made local mode run a command, replayed in Chromium: a page from another origin (any
 * site the developer has open) finds what Matinee listens on, as a port scan would, and tries to read and
 * rewrite its database, forge a webhook and press the dashboard's buttons. It must change nothing.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = resolve(import.meta.dirname, '../..');
const ID = environmentId('acme/shop', 8);

let matinee: LocalMatinee;
let dataDir: string;
let ports: number[];
let attacker: Server;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is not at ${CHROMIUM}: apt-get install -y chromium (.ci/run does this)`);
  dataDir = mkdtempSync(join(tmpdir(), 'matinee-sec-browser-'));
  const before = tcpListenPorts();
  const settings = readLocalSettings(
    { PATH: process.env.PATH, MATINEE_PORT: '0', MATINEE_DATA_DIR: dataDir, MATINEE_SWEEP_EVERY: '1h' },
    ROOT,
  );
  matinee = await startLocal(settings, new MemoryLogger());
  ports = tcpListenPorts().filter((port) => !before.includes(port));
  await runCli(['open', 'acme/shop', '8', 'cart', 'e'.repeat(40)], {
    baseUrl: `http://127.0.0.1:${matinee.port}`,
    secret: readWebhookSecret(dataDir) ?? '',
    print: () => {},
  });
  await until('ready', async () => (await matinee.store.get(ID))?.observed.phase === 'ready', 15_000);
  // Another origin: what matters is that it is not Matinee's own.
  attacker = createServer((_, response) =>
    response
      .writeHead(200, { 'content-type': 'text/html' })
      .end('<!doctype html><title>cat pictures</title>'),
  );
  await new Promise<void>((ready) => attacker.listen(0, '127.0.0.1', () => ready()));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  attacker?.close();
  await matinee?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs in the attacker's page: every request it can make, and what it could read back. */
async function attack(input: { ports: number[]; matinee: number; id: string }) {
  const seen: { what: string; status?: number; text?: string; error?: string }[] = [];
  const attempt = async (what: string, url: string, init: RequestInit) => {
    try {
      const response = await fetch(url, init);
      seen.push({
        what,
        status: response.status,
        text: response.type === 'opaque' ? '' : await response.text(),
      });
    } catch (error) {
      seen.push({ what, error: String(error) });
    }
  };
  // DynamoDB's JSON protocol with a signature of the right shape: the old database checked only its shape.
  const dynamo = (target: string, body: unknown): RequestInit => ({
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${target}`,
      'x-amz-date': '20260101T000000Z',
      authorization: `AWS4-HMAC-SHA256 Credential=local/20260101/local/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=${'0'.repeat(64)}`,
    },
    body: JSON.stringify(body),
  });
  const evil = { pk: { S: 'ENV#evil/evil' }, sk: { S: 'PR#0000000001' }, kind: { S: 'environment' } };
  for (const port of input.ports) {
    for (const host of ['127.0.0.1', 'localhost']) {
      const url = `http://${host}:${port}/`;
      await attempt(`scan ${url}`, url, dynamo('Scan', { TableName: 'matinee-local' }));
      await attempt(`put ${url}`, url, dynamo('PutItem', { TableName: 'matinee-local', Item: evil }));
    }
  }
  const matinee = `http://localhost:${input.matinee}`;
  const forged = JSON.stringify({ action: 'closed', number: 8, repository: { full_name: 'acme/shop' } });
  const github = { 'x-github-event': 'pull_request', 'x-github-delivery': 'forged-1' };
  await attempt('webhook, simple request', `${matinee}/webhooks/github`, {
    method: 'POST',
    mode: 'no-cors',
    headers: { 'content-type': 'text/plain' },
    body: forged,
  });
  await attempt('webhook, with GitHub headers', `${matinee}/webhooks/github`, {
    method: 'POST',
    headers: {
      ...github,
      'content-type': 'application/json',
      'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
    },
    body: forged,
  });
  const id = encodeURIComponent(input.id);
  for (const action of ['sleep', 'remove', 'redeploy', 'wake']) {
    await attempt(`dashboard ${action}`, `${matinee}/api/environments/${id}/${action}`, {
      method: 'POST',
      mode: 'no-cors',
    });
  }
  await attempt('read the API', `${matinee}/api/environments`, {});
  return seen;
}

describe('a web page from another origin, against local mode', () => {
  it('reads nothing and changes nothing: not the database, not a webhook, not a dashboard action', async () => {
    const before = await matinee.store.get(ID);
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);

    const seen = await page.evaluate(attack, { ports, matinee: matinee.port, id: ID });
    await page.close();
    await matinee.settled();

    expect(seen.length).toBeGreaterThan(2 * ports.length);
    expect(JSON.stringify(seen)).not.toContain('acme/shop#8');
    expect(JSON.stringify(seen)).not.toContain('"Items"');
    const after = await matinee.store.listAll();
    expect(after.map((env) => env.id)).toEqual([ID]);
    expect(after[0]?.desired).toEqual(before?.desired);
    expect(after[0]?.observed.phase).toBe('ready');
    expect(after[0]?.deployNonce).toEqual(before?.deployNonce);
  });
});
