import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId } from '@matinee/core';
import { type LocalMatinee, readLocalSettings, readWebhookSecret, runCli, startLocal } from '@matinee/local';
import type { Browser, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, seriousViolations } from '../support/chromium.ts';
import { MemoryLogger } from '../support/fakes.ts';
import { hostRequest } from '../support/http.ts';
import { until as poll } from '../support/until.ts';

/**
 * The dashboard as `MATINEE_ACCESS=link npm start` serves it, in Debian's Chromium: two previews, what each
 * row offers, updates that leave focus and scroll alone, the share link, remove's confirmation, axe in both
 * themes, and a phone's 390 px.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const SHOP = environmentId('acme/shop', 42);
const CART = environmentId('acme/shop', 43);
const SHOTS = process.env.MATINEE_SCREENSHOTS;

let matinee: LocalMatinee;
let browser: Browser;
let dataDir: string;
const log = new MemoryLogger();

const until = <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 20_000) =>
  poll(what, probe, ms);
const phase = async (id = SHOP) => (await matinee.store.get(id))?.observed.phase;

async function cli(...argv: string[]): Promise<void> {
  await runCli(argv, {
    baseUrl: `http://127.0.0.1:${matinee.port}`,
    secret: readWebhookSecret(dataDir) ?? '',
    print: () => {},
  });
}

/** An action as a script (not a browser page) posts it: what changes a state behind the page's back. */
const post = (id: string, action: string) =>
  hostRequest(matinee.port, 'localhost', `/api/environments/${encodeURIComponent(id)}/${action}`, {
    method: 'POST',
  });

async function dashboard(options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 }, ...options });
  const page = await context.newPage();
  await page.goto(matinee.url);
  await page.locator('tr[data-id]').nth(1).waitFor();
  return page;
}

const row = (page: Page, name: string): Locator => page.locator('tr[data-id]', { hasText: name });
const buttonsOf = (page: Page, name: string) => row(page, name).locator('button').allTextContents();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'matinee-e2e-dashboard-'));
  const settings = readLocalSettings(
    {
      PATH: process.env.PATH,
      MATINEE_PORT: '0',
      MATINEE_IDLE: '1h',
      MATINEE_DATA_DIR: dataDir,
      MATINEE_SWEEP_EVERY: '1h',
      MATINEE_ACCESS: 'link',
    },
    ROOT,
  );
  matinee = await startLocal({ ...settings, port: 0 }, log);
  browser = await launchChromium();
  await cli('open', 'acme/shop', '42', 'fix-login', 'a'.repeat(40));
  await cli('open', 'acme/shop', '43', 'new-cart', 'c'.repeat(40));
  await until('both ready', async () => (await phase(SHOP)) === 'ready' && (await phase(CART)) === 'ready');
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await matinee?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the dashboard in Chromium', () => {
  it('shows each preview with an Open link and only the actions its state allows', async () => {
    const page = await dashboard();

    await expect(row(page, 'acme/shop#42').locator('.state').textContent()).resolves.toBe('ready');
    expect(await buttonsOf(page, 'acme/shop#42')).toEqual([
      'Sleep',
      'Redeploy',
      'Reset data',
      'Share link',
      'New link',
      'Remove',
    ]);
    const open = row(page, 'acme/shop#42').getByRole('link', { name: 'Open acme/shop#42' });
    expect(await open.getAttribute('href')).toMatch(
      /^http:\/\/fix-login-pr42\.localhost:\d+\/\?matinee_token=[0-9a-f]{32}$/,
    );

    await open.click();
    await page.waitForSelector('text=Hello from fix-login');
    await page.context().close();
  });

  it('keeps focus and scroll when a row changes state under them', async () => {
    const page = await dashboard({ viewport: { width: 390, height: 420 } });
    const redeploy = row(page, 'acme/shop#42').getByRole('button', { name: 'Redeploy acme/shop#42' });
    await redeploy.focus();
    // Strings, not functions: these run in the page, and the tests compile without the DOM's types.
    await page.evaluate('window.marked = document.activeElement; window.scrollTo(0, 120)');
    const scrolled = await page.evaluate<number>('window.scrollY');
    expect(scrolled).toBeGreaterThan(0);

    expect((await post(SHOP, 'sleep')).status).toBe(202);
    await page.waitForFunction(
      `document.querySelector('tr[data-id="acme/shop#42"] .state')?.textContent === 'asleep'`,
      undefined,
      { timeout: 15_000 },
    );

    expect(await buttonsOf(page, 'acme/shop#42')).toEqual([
      'Wake',
      'Redeploy',
      'Reset data',
      'Share link',
      'New link',
      'Remove',
    ]);
    expect(await page.evaluate('document.activeElement === window.marked')).toBe(true);
    expect(await page.evaluate('window.scrollY')).toBe(scrolled);
    await page.context().close();
  });

  it('makes a share link to copy, which opens the preview in another browser, and logs it nowhere', async () => {
    const page = await dashboard();

    await row(page, 'acme/shop#43').getByRole('button', { name: 'Share link acme/shop#43' }).click();
    await page.getByLabel('Valid for (hours)').fill('2');
    await page.getByRole('button', { name: 'Create link' }).click();
    const field = page.getByLabel('Link', { exact: true });
    await expect
      .poll(() => field.inputValue())
      .toMatch(/^http:\/\/new-cart-pr43\.localhost:\d+\/\?matinee_token=\d+-[0-9a-f]{40}$/);
    const link = await field.inputValue();
    expect(await page.evaluate('document.activeElement.id')).toBe('share-url');

    const stranger = await browser.newContext();
    const visit = await stranger.newPage();
    await visit.goto(link);
    await visit.waitForSelector('text=Hello from new-cart');
    await stranger.close();
    expect(log.text).not.toContain(link.split('=')[1]);
    await page.context().close();
  });

  it('asks before removing, and removes nothing when told no', async () => {
    const page = await dashboard();
    const asked: string[] = [];
    page.once('dialog', (dialog) => {
      asked.push(dialog.message());
      return dialog.dismiss();
    });

    await row(page, 'acme/shop#43').getByRole('button', { name: 'Remove acme/shop#43' }).click();

    expect(asked).toEqual([expect.stringContaining('Remove the preview of acme/shop#43?')]);
    await expect(page.locator('#message').textContent()).resolves.toBe('');
    expect((await matinee.store.get(CART))?.desired.phase).toBe('running');
    await page.context().close();
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    it(`has no serious or critical axe violations in the ${colorScheme} theme`, async () => {
      const page = await dashboard({ colorScheme });
      // The share panel open with a link in it, so that its form is checked too.
      await row(page, 'acme/shop#43').getByRole('button', { name: 'Share link acme/shop#43' }).click();
      await page.getByRole('button', { name: 'Create link' }).click();
      await page.getByLabel('Link', { exact: true }).waitFor();

      expect(await seriousViolations(page)).toEqual([]);
      await page.context().close();
    });
  }

  it('fits a 390 px wide phone: no sideways scrolling, every button on screen', async () => {
    const page = await dashboard({ viewport: { width: 390, height: 844 } });
    const shot = join(SHOTS ?? dataDir, 'dashboard-390.png');
    await page.screenshot({ path: shot, fullPage: true });

    expect(existsSync(shot)).toBe(true);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    for (const box of await page
      .locator('button, a')
      .evaluateAll((els) => els.map((el) => el.getBoundingClientRect().right)))
      expect(box).toBeLessThanOrEqual(390);
    await page.context().close();
  });

  it('removes when told yes, and then offers nothing more', async () => {
    const page = await dashboard();
    page.once('dialog', (dialog) => dialog.accept());

    await row(page, 'acme/shop#43').getByRole('button', { name: 'Remove acme/shop#43' }).click();

    await until('removing', async () => (await matinee.store.get(CART))?.desired.phase === 'deleted');
    await page.waitForFunction(`!document.querySelector('tr[data-id="acme/shop#43"] button')`, undefined, {
      timeout: 15_000,
    });
    await page.context().close();
  });
});
