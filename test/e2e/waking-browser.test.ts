import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId } from '@matinee/core';
import { type LocalMatinee, readLocalSettings, readWebhookSecret, runCli, startLocal } from '@matinee/local';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { MemoryLogger } from '../support/fakes.ts';
import { until } from '../support/until.ts';

/**
 * The waking page's own script, in Chromium: a preview whose wake takes longer than its first start did
 * (test/fixtures/slow-waking-app.js). What its live region says, and when, is recorded from inside the page
 * by a MutationObserver that reports to the test across the page's reloads.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const APP = resolve(import.meta.dirname, '../fixtures/slow-waking-app.js');
const ID = environmentId('acme/shop', 5);

let matinee: LocalMatinee;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'matinee-e2e-waking-'));
  const config = join(dir, '.matinee.yml');
  writeFileSync(
    config,
    `app: { image: 'x:{sha}', port: 3000, health: /health }\nlocal: { command: node ${APP} ${join(dir, 'started')} }\n`,
  );
  const dataDir = join(dir, 'data');
  const settings = readLocalSettings(
    {
      PATH: process.env.PATH,
      MATINEE_PORT: '0',
      MATINEE_IDLE: '1s',
      MATINEE_SWEEP_EVERY: '1h',
      MATINEE_DATA_DIR: dataDir,
      MATINEE_CONFIG: config,
    },
    ROOT,
  );
  matinee = await startLocal({ ...settings, port: 0 }, new MemoryLogger());
  browser = await launchChromium();
  await runCli(['open', 'acme/shop', '5', 'slow', 'e'.repeat(40)], {
    baseUrl: `http://127.0.0.1:${matinee.port}`,
    secret: readWebhookSecret(dataDir) ?? '',
    print: () => {},
  });
  await until('ready', async () => (await matinee.store.get(ID))?.observed.phase === 'ready', 30_000);
  await new Promise((r) => setTimeout(r, 1100));
  await matinee.sweepNow();
  await matinee.settled();
  expect((await matinee.store.get(ID))?.observed.phase).toBe('sleeping');
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await matinee?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the waking page in Chromium', { timeout: 60_000 }, () => {
  it('announces each change of state once, not each second, and turns into the app by itself', async () => {
    const page = await browser.newPage();
    const announced: string[] = [];
    const progress: string[] = [];
    await page.exposeFunction('heard', (what: string, text: string) =>
      (what === 'said' ? announced : progress).push(text),
    );
    // Runs in every document the tab loads: the waking page, then the app (which has neither element).
    await page.addInitScript(`document.addEventListener('DOMContentLoaded', () => {
      for (const id of ['said', 'progress']) {
        const node = document.getElementById(id);
        if (node) new MutationObserver(() => window.heard(id, node.textContent)).observe(node, { childList: true, characterData: true, subtree: true });
      }
    })`);

    const first = await page.goto(`http://slow-pr5.localhost:${matinee.port}/`);
    expect(await first?.text()).toContain('Waking up');
    await expect(page.getByRole('status').textContent()).resolves.toBe('Starting.');

    await page.waitForSelector('text=Slow app ready', { timeout: 30_000 });

    // The counter moved every poll; the live region spoke only when the state changed.
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(announced).toContain('Taking longer than usual.');
    expect(announced.length).toBeLessThan(progress.length);
    // Never the same words twice in a row: an unchanged state says nothing.
    expect(announced).toEqual(announced.filter((words, i) => words !== (i ? announced[i - 1] : 'Starting.')));
    expect(page.url()).toBe(`http://slow-pr5.localhost:${matinee.port}/`);
    await page.close();
  });
});
