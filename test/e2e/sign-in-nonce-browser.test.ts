import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { environmentId } from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basePart, signInPart, wakePart } from '../../functions/lib/platform.ts';
import { readSettings } from '../../functions/lib/settings.ts';
import { serveDefaultRule } from '../../functions/wake.ts';
import { launchChromium } from '../support/chromium.ts';
import { localTable } from '../support/dynamo.ts';
import { anEnvironment } from '../support/environments.ts';
import { FakeGithubOAuth } from '../support/fake-github-oauth.ts';
import { MemoryLogger } from '../support/fakes.ts';
import { hostRequest } from '../support/http.ts';
import { serveLambda } from '../support/lambda-http.ts';
import { links } from '../support/stage.ts';

/**
 * Login CSRF through a neighbouring preview, in Chromium over HTTPS (what `__Host-` needs): the wake function
 * of a `github` stage behind a TLS front for `preview.example.com` and its subdomains, one of which,
 * `evil-3`, is an attacker's preview app. The attacker starts a sign-in of their own, then has the app plant
 * that sign-in's nonce for the whole domain in a victim's browser, and sends the victim to the callback.
 */
const DOMAIN = 'preview.example.com';
const VICTIM_PREVIEW = `private-1.${DOMAIN}`;
const EVIL_PREVIEW = `evil-3.${DOMAIN}`;
const github = new FakeGithubOAuth();
const eventbridge = mockClient(EventBridgeClient);
let lambda: Awaited<ReturnType<typeof serveLambda>>;
let front: Server;
let port: number;
let browser: Browser;
let certDir: string;
/** What the attacker's app sets on every answer (its own `Set-Cookie`, as any app may). */
let planted: string[] = [];

const at = (host: string, path = '/') => `https://${host}:${port}${path}`;

/** A self-signed certificate for the domain and its subdomains (Chromium is told to accept it). */
function certificate(): { key: Buffer; cert: Buffer } {
  certDir = mkdtempSync(join(tmpdir(), 'matinee-tls-'));
  const [key, cert] = [join(certDir, 'key.pem'), join(certDir, 'cert.pem')];
  execFileSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    `/CN=${DOMAIN}`,
    '-addext',
    `subjectAltName=DNS:${DOMAIN},DNS:*.${DOMAIN}`,
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

beforeAll(async () => {
  await github.start();
  github.repos.set('acme/secret', { private: true, collaborators: { rita: 'read', mallory: 'read' } });
  eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
  const { tableName, client } = await localTable();
  const linked = links({
    access: { mode: 'github' },
    githubApiUrl: github.url,
    dashboardPassword: 'dashboard-password',
    oauth: { clientId: github.clientId, clientSecret: github.clientSecret },
  });
  linked.MatineeTable.name = tableName;
  const config = readSettings(linked, { dashboardPassword: true, oauth: true });
  const base = basePart(
    config,
    { dynamo: client, eventbridge: new EventBridgeClient({}) },
    new MemoryLogger(),
  );
  const platform = {
    ...base,
    ...wakePart(config, { dynamo: client }),
    ...signInPart(config, base, { dynamo: client }),
  };
  const draft = anEnvironment({ id: environmentId('acme/secret', 1) });
  await platform.store.create(
    {
      ...draft,
      repo: 'acme/secret',
      repoPrivate: true,
      accessSecret: '1'.repeat(32),
      desired: { ...draft.desired, phase: 'sleeping' },
      observed: { phase: 'sleeping', resources: {}, since: draft.createdAt },
    },
    ['private-1'],
    DOMAIN,
  );
  lambda = await serveLambda('alb', (event) => serveDefaultRule(platform, event));

  // The load balancer's place: TLS, then the attacker's app for its host and the wake function for the rest.
  front = createServer(certificate(), (request, response) => {
    if ((request.headers.host ?? '').startsWith(`${EVIL_PREVIEW}:`)) {
      response.writeHead(200, { 'content-type': 'text/html', 'set-cookie': planted });
      return response.end('<!doctype html><title>a preview</title><h1>Nothing to see</h1>');
    }
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: lambda.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
      },
    );
    request.pipe(upstream);
  });
  await new Promise<void>((ready) => front.listen(0, '127.0.0.1', ready));
  port = (front.address() as AddressInfo).port;
  // Redirects name the port the browser reaches the stage on, as they do locally.
  platform.settings.port = port;
  browser = await launchChromium([
    `--host-resolver-rules=MAP ${DOMAIN} 127.0.0.1, MAP *.${DOMAIN} 127.0.0.1`,
  ]);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((done) => (front ? front.close(() => done()) : done()));
  await lambda?.close();
  await github.stop();
  eventbridge.restore();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

/** The attacker's own sign-in, without a browser: the nonce it set, and GitHub's way back with their code. */
async function attackersSignIn(): Promise<{ nonce: string; callback: string }> {
  const preview = await hostRequest(lambda.port, VICTIM_PREVIEW, '/', { headers: { accept: 'text/html' } });
  const start = new URL(String(preview.headers.location));
  const started = await hostRequest(lambda.port, DOMAIN, `${start.pathname}${start.search}`, {
    headers: { accept: 'text/html' },
  });
  const nonce = /=([0-9a-f]{64});/.exec(String(started.headers['set-cookie']))?.[1] ?? '';
  const authorize = new URL(String(started.headers.location));
  const redirectUri = authorize.searchParams.get('redirect_uri') ?? '';
  const code = github.issueCode('mallory', redirectUri);
  const state = encodeURIComponent(authorize.searchParams.get('state') ?? '');
  return { nonce, callback: `${redirectUri}?code=${code}&state=${state}` };
}

describe('the sign-in nonce in Chromium, over HTTPS', () => {
  it('is a __Host- cookie the browser keeps, and signs a reader in', async () => {
    github.signInAs('rita');
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const finishes: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/__matinee/signed-in')) finishes.push(request.url());
    });
    const nonces: string[] = [];
    page.on('response', async (response) => {
      if (response.url().includes('/__matinee/sign-in?'))
        nonces.push((await response.headerValue('set-cookie')) ?? '');
    });

    await page.goto(at(VICTIM_PREVIEW, '/orders'));

    // The callback took the nonce only from the browser's __Host- cookie: had Chromium refused it, no finish.
    expect(nonces).toHaveLength(1);
    expect(nonces[0]).toMatch(/^__Host-matinee_sign_in=[0-9a-f]{64}; Path=\/; /);
    // The waking page of the (sleeping) preview, reached through GitHub with the cookie the nonce allowed.
    expect(finishes).toHaveLength(1);
    expect(page.url()).toBe(at(VICTIM_PREVIEW, '/orders'));
    const cookies = await context.cookies(at(VICTIM_PREVIEW));
    expect(cookies.map((c) => c.name)).toContain('matinee_private-1');
    await context.close();
  });

  it('cannot be planted by a preview on a sibling host: the attacker’s callback is refused', async () => {
    const attack = await attackersSignIn();
    // Both names, for the whole domain: the browser refuses the first (a __Host- cookie with a Domain).
    planted = [
      `__Host-matinee_sign_in=${attack.nonce}; Domain=${DOMAIN}; Path=/; Secure; HttpOnly; SameSite=Lax`,
      `matinee_sign_in=${attack.nonce}; Domain=${DOMAIN}; Path=/; Secure; HttpOnly; SameSite=Lax`,
    ];
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();

    await page.goto(at(EVIL_PREVIEW));
    const callback = await page.goto(attack.callback);

    const stored = await context.cookies(at(DOMAIN));
    expect(stored.map((c) => `${c.name}@${c.domain}`)).toEqual([`matinee_sign_in@.${DOMAIN}`]);
    expect(callback?.status()).toBe(400);
    await expect(page.locator('p').first().textContent()).resolves.toContain('not started in this browser');
    expect(await context.cookies(at(VICTIM_PREVIEW))).not.toContainEqual(
      expect.objectContaining({ name: 'matinee_private-1' }),
    );
    await context.close();
  });
});
