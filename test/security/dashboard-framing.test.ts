import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRouter, type RouterDeps } from '@matinee/local';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Clickjacking: a page from another origin frames the dashboard (locally any site the developer has open;
 * on AWS any site, the browser having the Basic credentials) under a decoy, so that the developer's clicks
 * press its buttons (remove, reset-data, rotate-link). Those clicks come from the dashboard's own origin,
 * so the same-origin check on actions lets them through: the dashboard must refuse to be framed at all.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let router: Server;
let attacker: Server;
let browser: Browser;
const port = (server: Server) => (server.address() as AddressInfo).port;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is not at ${CHROMIUM}: apt-get install -y chromium (.ci/run does this)`);
  // `GET /` on the bare localhost host is the dashboard page: it reads nothing of these.
  const log = { info() {}, warn() {}, error() {} };
  router = createRouter({ wake: { log } } as unknown as RouterDeps);
  await new Promise<void>((ready) => router.listen(0, '127.0.0.1', () => ready()));
  attacker = createServer((_, response) =>
    response
      .writeHead(200, { 'content-type': 'text/html' })
      .end(
        `<!doctype html><title>win a prize</title><iframe id="f" style="opacity:0.01" src="http://localhost:${port(router)}/"></iframe>`,
      ),
  );
  await new Promise<void>((ready) => attacker.listen(0, '127.0.0.1', () => ready()));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  attacker?.close();
  router?.close();
});

describe('the dashboard in another site’s frame', () => {
  it('does not render there: its buttons cannot be clicked through a decoy', async () => {
    const page = await browser.newPage();
    const framed = page.waitForEvent('framenavigated', (frame) => frame !== page.mainFrame());
    await page.goto(`http://127.0.0.1:${port(attacker)}/`, { waitUntil: 'load' });
    const frame = await framed;
    const title = await frame.title().catch(() => 'blocked');

    expect(frame.url()).not.toBe(`http://localhost:${port(router)}/`);
    expect(title).not.toContain('Matinee');
    await page.close();
  });

  it('still renders as a page of its own', async () => {
    const page = await browser.newPage();
    await page.goto(`http://localhost:${port(router)}/`, { waitUntil: 'load' });

    expect(await page.title()).toContain('Matinee');
    await page.close();
  });
});
