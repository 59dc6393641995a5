import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId } from '@matinee/core';
import { type LocalMatinee, readLocalSettings, readWebhookSecret, runCli, startLocal } from '@matinee/local';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { MemoryLogger } from '../support/fakes.ts';
import { hostRequest } from '../support/http.ts';
import { until as poll } from '../support/until.ts';

/**
 * The whole product on one machine, as a new user meets it: `startLocal` is what `npm start` runs, the CLI
 * sends signed webhooks over HTTP, the example app runs as a real process, and Debian's Chromium opens the
 * preview (it resolves `*.localhost` to loopback; Node does not, so non-browser checks send a Host header).
 */
const ROOT = resolve(import.meta.dirname, '../..');
const ID = environmentId('acme/shop', 42);
const HOST = 'fix-login-pr42.localhost';
/** Set to a directory to refresh the README's screenshots. */
const SHOTS = process.env.MATINEE_SCREENSHOTS;

let matinee: LocalMatinee;
let browser: Browser;
let dataDir: string;
const printed: string[] = [];

async function cli(...argv: string[]): Promise<void> {
  await runCli(argv, {
    baseUrl: `http://127.0.0.1:${matinee.port}`,
    secret: readWebhookSecret(dataDir) ?? '',
    print: (line) => printed.push(line),
  });
}

/** Waits longer than the default: a browser, a process start and a wake each take their time. */
const until = <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 15_000) =>
  poll(what, probe, ms);

const phase = async () => (await matinee.store.get(ID))?.observed.phase;
const appProcesses = () => matinee.cloud.processes().filter((p) => p.service.includes('fix-login-pr42'));
const previewUrl = () => `http://${HOST}:${matinee.port}/`;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'matinee-e2e-'));
  const settings = readLocalSettings(
    {
      PATH: process.env.PATH,
      MATINEE_PORT: '0',
      MATINEE_IDLE: '1s',
      MATINEE_DATA_DIR: dataDir,
      MATINEE_SWEEP_EVERY: '1h',
    },
    ROOT,
  );
  matinee = await startLocal({ ...settings, port: 0 }, new MemoryLogger());
  browser = await launchChromium();
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await matinee?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function openPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  return page;
}

describe('npm start, end to end in Chromium', () => {
  it('serves the app at the preview URL once the pull request is opened', async () => {
    await cli('open', 'acme/shop', '42', 'fix-login', 'a'.repeat(40));
    await until('ready', async () => (await phase()) === 'ready');

    const page = await openPage();
    await page.goto(previewUrl());

    await expect(page.locator('h1').textContent()).resolves.toContain('Hello from fix-login');
    await expect(page.locator('#sha').textContent()).resolves.toBe('aaaaaaa');
    await page.close();
  });

  it('lists it on the dashboard, read from the JSON API', async () => {
    const page = await openPage();
    await page.goto(matinee.url);

    const row = page.locator('tr', { hasText: 'acme/shop#42' });
    await expect(row.textContent()).resolves.toMatch(/ready/i);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'dashboard.png') });
    await page.close();
  });

  it('puts it to sleep when idle: no process, no route', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const report = await matinee.sweepNow();
    await matinee.settled();

    expect(report.slept).toEqual([ID]);
    expect(await phase()).toBe('sleeping');
    expect(appProcesses()).toEqual([]);
  });

  it('wakes it when the link is opened: the waking page, then the app, without user action', async () => {
    const page = await openPage();
    const first = await page.goto(previewUrl());

    expect(await first?.text()).toContain('Waking up');
    expect(first?.headers()['cache-control']).toMatch(/no-store/);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'waking.png') });
    await page.waitForSelector('text=Hello from fix-login', { timeout: 20_000 });
    expect(await phase()).toBe('ready');
    expect(appProcesses()).toHaveLength(1);
    await page.close();
  });

  it('serves the new commit after a push', async () => {
    const before = appProcesses()[0]?.pid;
    await cli('push', 'acme/shop', '42', 'b'.repeat(40));

    await until('the new commit', async () =>
      (await hostRequest(matinee.port, HOST)).body.includes('bbbbbbb'),
    );
    const page = await openPage();
    await page.goto(previewUrl());
    await expect(page.locator('#sha').textContent()).resolves.toBe('bbbbbbb');
    expect(appProcesses()[0]?.pid).not.toBe(before);
    await page.close();
  });

  it('answers 410 after the pull request is closed, and its process is gone', async () => {
    await cli('close', 'acme/shop', '42');
    await until('deleted', async () => (await phase()) === 'deleted');

    const page = await openPage();
    const response = await page.goto(previewUrl());

    expect(response?.status()).toBe(410);
    await expect(page.locator('h1').textContent()).resolves.toBe('This preview is gone');
    expect(appProcesses()).toEqual([]);
    await page.close();
  });
});
