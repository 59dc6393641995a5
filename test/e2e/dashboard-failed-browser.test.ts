import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId } from '@matinee/core';
import { type LocalMatinee, readLocalSettings, readWebhookSecret, runCli, startLocal } from '@matinee/local';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, seriousViolations } from '../support/chromium.ts';
import { MemoryLogger } from '../support/fakes.ts';
import { until } from '../support/until.ts';

/**
 * A failed preview on the dashboard, in Chromium: its row says why, offers what can help (redeploy, not
 * wake), opens the app's last lines as text, and passes axe in both themes with the failed state showing.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const APP = resolve(import.meta.dirname, '../fixtures/crashing-app.js');
const ID = environmentId('acme/shop', 7);

let matinee: LocalMatinee;
let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'matinee-e2e-failed-'));
  const config = join(dir, '.matinee.yml');
  writeFileSync(
    config,
    `app: { image: 'x:{sha}', port: 3000, health: /health }\nlocal: { command: node ${APP} }\n`,
  );
  const dataDir = join(dir, 'data');
  const settings = readLocalSettings(
    { PATH: process.env.PATH, MATINEE_PORT: '0', MATINEE_DATA_DIR: dataDir, MATINEE_CONFIG: config },
    ROOT,
  );
  matinee = await startLocal({ ...settings, port: 0 }, new MemoryLogger());
  browser = await launchChromium();
  await runCli(['open', 'acme/shop', '7', 'broken', 'b'.repeat(40)], {
    baseUrl: `http://127.0.0.1:${matinee.port}`,
    secret: readWebhookSecret(dataDir) ?? '',
    print: () => {},
  });
  await until('failed', async () => (await matinee.store.get(ID))?.observed.phase === 'failed', 60_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await matinee?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a failed preview on the dashboard, in Chromium', { timeout: 60_000 }, () => {
  for (const colorScheme of ['light', 'dark'] as const) {
    it(`says why and shows the app's last lines, with no serious axe violation (${colorScheme})`, async () => {
      const context = await browser.newContext({ colorScheme, viewport: { width: 1100, height: 800 } });
      const page = await context.newPage();
      await page.goto(matinee.url);
      const row = page.locator('tr[data-id]', { hasText: 'acme/shop#7' });

      await expect(row.locator('.state').textContent()).resolves.toBe('failed');
      await expect(row.locator('.reason').first().textContent()).resolves.toMatch(/app exited \(code 1\)/);
      const buttons = await row.locator('button').allTextContents();
      expect(buttons).toContain('Redeploy');
      expect(buttons).not.toContain('Wake');

      await row.getByText('What the app last wrote').click();
      const output = row.locator('details pre');
      await expect.poll(() => output.textContent()).toContain('Error: connect ECONNREFUSED 127.0.0.1:5432');
      expect(await output.textContent()).not.toContain('hunter2');

      expect(await seriousViolations(page)).toEqual([]);
      await context.close();
    });
  }
});
