import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId, returnState, stateKey } from '@matinee/core';
import { type LocalMatinee, readLocalSettings, readWebhookSecret, runCli, startLocal } from '@matinee/local';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { FakeGithubOAuth } from '../support/fake-github-oauth.ts';
import { MemoryLogger } from '../support/fakes.ts';
import { hostRequest } from '../support/http.ts';
import { until as poll } from '../support/until.ts';

/**
 * `MATINEE_ACCESS=github npm start` against a stand-in for GitHub's OAuth and permission endpoints (real
 * HTTP), in Debian's Chromium: the whole redirect chain a reviewer's browser follows, preview host → the
 * stage's sign-in route → GitHub → the callback → the preview host's one-time code → the app.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const SHOP = environmentId('acme/shop', 42);
const OTHER = environmentId('acme/shop', 43);

let matinee: LocalMatinee;
let browser: Browser;
let dataDir: string;
const github = new FakeGithubOAuth();
const log = new MemoryLogger();

async function cli(...argv: string[]): Promise<void> {
  await runCli(argv, {
    baseUrl: `http://127.0.0.1:${matinee.port}`,
    secret: readWebhookSecret(dataDir) ?? '',
    print: () => {},
  });
}

const phase = async (id = SHOP) => (await matinee.store.get(id))?.observed.phase;
const processesOf = (slug: string) => matinee.cloud.processes().filter((p) => p.service.includes(slug));
const clean = (slug: string) => `http://${slug}.localhost:${matinee.port}/`;
const stage = () => `http://localhost:${matinee.port}`;

async function signedInPage(login: string | undefined): Promise<{ page: Page; finishes: string[] }> {
  github.signInAs(login);
  const context = await browser.newContext();
  const page = await context.newPage();
  const finishes: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/__matinee/signed-in')) finishes.push(request.url());
  });
  return { page, finishes };
}

beforeAll(async () => {
  await github.start();
  // GitHub says `read` for anyone on a public repository: only alice holds an explicit role.
  github.repos.set('acme/shop', { private: false, collaborators: { alice: 'write' } });
  dataDir = mkdtempSync(join(tmpdir(), 'matinee-e2e-github-'));
  const settings = readLocalSettings(
    {
      PATH: process.env.PATH,
      MATINEE_PORT: '0',
      MATINEE_IDLE: '1s',
      MATINEE_DATA_DIR: dataDir,
      MATINEE_SWEEP_EVERY: '1h',
      MATINEE_ACCESS: 'github',
      MATINEE_GITHUB_CLIENT_ID: github.clientId,
      MATINEE_GITHUB_CLIENT_SECRET: github.clientSecret,
      MATINEE_GITHUB_OAUTH_URL: github.url,
      MATINEE_GITHUB_API_URL: github.url,
    },
    ROOT,
  );
  matinee = await startLocal({ ...settings, port: 0 }, log);
  browser = await launchChromium();
  await cli('open', 'acme/shop', '42', 'fix-login', 'a'.repeat(40));
  await cli('open', 'acme/shop', '43', 'new-cart', 'c'.repeat(40));
  await poll(
    'both ready',
    async () => (await phase(SHOP)) === 'ready' && (await phase(OTHER)) === 'ready',
    30_000,
  );
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await matinee?.stop();
  await github.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('MATINEE_ACCESS=github npm start, in Chromium', () => {
  it('lets a collaborator in through Sign in with GitHub, on the page asked for, and keeps them in', async () => {
    const { page } = await signedInPage('alice');

    const opened = await page.goto(`${clean('fix-login-pr42')}?from=mail`);

    expect(opened?.status()).toBe(200);
    expect(page.url()).toBe(`${clean('fix-login-pr42')}?from=mail`);
    await expect(page.locator('h1').textContent()).resolves.toContain('Hello from fix-login');
    const reloaded = await page.reload();
    expect(reloaded?.status()).toBe(200);
    expect(github.requests.filter((path) => path === '/login/oauth/authorize')).toHaveLength(1);
    await page.context().close();
  });

  it('refuses a signed-in GitHub user without a permission on the public repository with the 403 page', async () => {
    const { page } = await signedInPage('mallory');

    const refused = await page.goto(clean('fix-login-pr42'));

    expect(refused?.status()).toBe(403);
    await expect(page.locator('h1').textContent()).resolves.toBe('No access to this preview');
    const text = await page.content();
    expect(text).toContain('@mallory');
    expect(text).not.toContain('Hello from');
    expect(text).not.toContain('acme/shop');
    await page.context().close();
  });

  it('opens the preview once per one-time code: the same code again is refused', async () => {
    const { page, finishes } = await signedInPage('alice');
    await page.goto(clean('fix-login-pr42'));
    await page.waitForSelector('text=Hello from fix-login');
    await page.context().close();
    expect(finishes).toHaveLength(1);

    const replay = await (await browser.newContext()).newPage();
    const answer = await replay.goto(finishes[0] ?? '');

    expect(answer?.status()).toBe(400);
    await expect(replay.locator('p').first().textContent()).resolves.toContain('already used or has expired');
    expect(await answer?.headerValue('set-cookie')).toBeNull();
    await replay.context().close();
  });

  it('refuses a tampered, expired or foreign state with a 400 page, and sets nothing', async () => {
    const page = await (await browser.newContext()).newPage();
    const key = stateKey(github.clientSecret);
    const host = `fix-login-pr42.localhost`;
    const valid = returnState(key, host, '/', new Date());
    const tampered = `${valid.slice(0, -2)}${valid.endsWith('AA') ? 'BB' : 'AA'}`;
    const expired = returnState(key, host, '/', new Date(Date.now() - 11 * 60_000));
    const foreign = returnState(stateKey('someone else'), host, '/', new Date());

    for (const [state, says] of [
      [tampered, 'not valid'],
      [expired, 'expired'],
      [foreign, 'not valid'],
      ['<script>alert(1)</script>', 'not valid'],
    ] as const) {
      const answer = await page.goto(`${stage()}/__matinee/sign-in?state=${encodeURIComponent(state)}`);
      expect(answer?.status()).toBe(400);
      await expect(page.locator('p').first().textContent()).resolves.toContain(says);
      expect(await answer?.headerValue('set-cookie')).toBeNull();
    }
    // GitHub's callback with a state the browser did not start: refused before the code is exchanged.
    const exchanges = () => github.requests.filter((path) => path === '/login/oauth/access_token').length;
    const before = exchanges();
    const callback = await page.goto(`${stage()}/__matinee/github/callback?code=abc&state=${valid}`);
    expect(callback?.status()).toBe(400);
    expect(exchanges()).toBe(before);
    await page.context().close();
  });

  it('wakes nothing for a visitor who has not signed in, nor for one who cancels or has no permission', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    await matinee.sweepNow();
    await matinee.settled();
    expect(await phase(OTHER)).toBe('sleeping');

    const script = await hostRequest(matinee.port, `new-cart-pr43.localhost:${matinee.port}`);
    const cancelled = await signedInPage(undefined);
    const cancel = await cancelled.page.goto(clean('new-cart-pr43'));
    const stranger = await signedInPage('mallory');
    const refused = await stranger.page.goto(clean('new-cart-pr43'));
    await matinee.settled();

    expect(script.status).toBe(401);
    expect(cancel?.status()).toBe(400);
    await expect(cancelled.page.locator('p').first().textContent()).resolves.toContain('cancelled');
    expect(refused?.status()).toBe(403);
    expect((await matinee.store.get(OTHER))?.desired.phase).toBe('sleeping');
    expect(processesOf('new-cart-pr43')).toEqual([]);
    await cancelled.page.context().close();
    await stranger.page.context().close();
  });

  it('wrote no user token, client secret or preview secret into the log', async () => {
    const secrets = [
      github.clientSecret,
      ...github.tokens,
      ...(await matinee.store.listAll()).map((env) => env.accessSecret ?? 'none'),
    ];
    expect(github.tokens.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(log.text).not.toContain(secret);
  });
});
