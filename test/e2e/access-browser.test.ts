import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId } from '@matinee/core';
import { type LocalMatinee, readLocalSettings, readWebhookSecret, runCli, startLocal } from '@matinee/local';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { MemoryLogger } from '../support/fakes.ts';
import { until as poll } from '../support/until.ts';

/**
 * `MATINEE_ACCESS=link npm start`, as a user meets it: pull requests opened with the CLI, their links read
 * from `matinee ls`, and Debian's Chromium opening previews with and without them.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const SHOP = environmentId('acme/shop', 42);
const OTHER = environmentId('acme/shop', 43);

let matinee: LocalMatinee;
let browser: Browser;
let dataDir: string;
const printed: string[] = [];
const log = new MemoryLogger();

async function cli(...argv: string[]): Promise<void> {
  await runCli(argv, {
    baseUrl: `http://127.0.0.1:${matinee.port}`,
    secret: readWebhookSecret(dataDir) ?? '',
    print: (line) => printed.push(line),
  });
}

const until = <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 20_000) =>
  poll(what, probe, ms);
const phase = async (id = SHOP) => (await matinee.store.get(id))?.observed.phase;
const processesOf = (slug: string) => matinee.cloud.processes().filter((p) => p.service.includes(slug));
const clean = (slug: string) => `http://${slug}.localhost:${matinee.port}/`;

/** The link `matinee ls` prints for a pull request. */
async function linkFromLs(pr: string): Promise<string> {
  printed.length = 0;
  await cli('ls');
  const row = printed.find((line) => line.startsWith(pr));
  const link = row?.split(/\s+/).find((cell) => cell.startsWith('http://'));
  if (!link) throw new Error(`no link for ${pr} in:\n${printed.join('\n')}`);
  return link;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'matinee-e2e-access-'));
  const settings = readLocalSettings(
    {
      PATH: process.env.PATH,
      MATINEE_PORT: '0',
      MATINEE_IDLE: '1s',
      MATINEE_DATA_DIR: dataDir,
      MATINEE_SWEEP_EVERY: '1h',
      MATINEE_ACCESS: 'link',
    },
    ROOT,
  );
  matinee = await startLocal({ ...settings, port: 0 }, log);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await matinee?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('MATINEE_ACCESS=link npm start, in Chromium', () => {
  it('prints each preview’s link with its token in matinee ls', async () => {
    await cli('open', 'acme/shop', '42', 'fix-login', 'a'.repeat(40));
    await cli('open', 'acme/shop', '43', 'new-cart', 'c'.repeat(40));
    await until(
      'both ready',
      async () => (await phase(SHOP)) === 'ready' && (await phase(OTHER)) === 'ready',
    );

    const link = await linkFromLs('acme/shop#42');

    expect(link).toMatch(/^http:\/\/fix-login-pr42\.localhost:\d+\/\?matinee_token=[0-9a-f]{32}$/);
  });

  it('shows the 401 page without the link, the app with it, and keeps it across a reload', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();

    const without = await page.goto(clean('fix-login-pr42'));
    expect(without?.status()).toBe(401);
    await expect(page.locator('h1').textContent()).resolves.toBe('This preview is private');
    expect(await page.content()).not.toContain('Hello from');

    await page.goto(await linkFromLs('acme/shop#42'));
    // The token is gone from the address bar (and history): the cookie carries access from here.
    expect(page.url()).toBe(clean('fix-login-pr42'));
    await expect(page.locator('h1').textContent()).resolves.toContain('Hello from fix-login');

    const reloaded = await page.reload();
    expect(reloaded?.status()).toBe(200);
    await expect(page.locator('h1').textContent()).resolves.toContain('Hello from fix-login');

    const other = await page.goto(clean('new-cart-pr43'));
    expect(other?.status()).toBe(401);
    await expect(page.locator('h1').textContent()).resolves.toBe('This preview is private');
    await context.close();
  });

  it('keeps an asleep private preview asleep when it is opened without the link, and wakes it with the link', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    await matinee.sweepNow();
    await matinee.settled();
    expect(await phase(OTHER)).toBe('sleeping');
    const context = await browser.newContext();
    const page = await context.newPage();

    const stranger = await page.goto(clean('new-cart-pr43'));
    await page.reload();
    await matinee.settled();

    expect(stranger?.status()).toBe(401);
    expect((await matinee.store.get(OTHER))?.desired.phase).toBe('sleeping');
    expect(processesOf('new-cart-pr43')).toEqual([]);

    await page.goto(await linkFromLs('acme/shop#43'));
    await page.waitForSelector('text=Hello from new-cart', { timeout: 30_000 });
    expect(page.url()).toBe(clean('new-cart-pr43'));
    await context.close();
  });

  it('wrote no token into the log', async () => {
    const secrets = (await matinee.store.listAll()).map((env) => env.accessSecret ?? 'none');
    for (const secret of secrets) expect(log.text).not.toContain(secret);
  });
});
