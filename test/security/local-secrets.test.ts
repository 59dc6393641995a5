import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureWebhookSecret, readLocalSettings, readWebhookSecret, webhookSecretPath } from '@matinee/local';
import { afterEach, describe, expect, it } from 'vitest';

/** Local mode's webhook secret: nowhere a preview (or any other process) finds it for free. */
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'matinee-sec-secret-'));
  dirs.push(dir);
  return dir;
};

describe("local mode's webhook secret", () => {
  it('is taken out of the environment it was read from', () => {
    const env: NodeJS.ProcessEnv = { MATINEE_WEBHOOK_SECRET: 'hush', PATH: '/usr/bin' };

    const settings = readLocalSettings(env, '/repo');

    expect(settings.webhookSecret).toBe('hush');
    expect(env).toEqual({ PATH: '/usr/bin' });
  });

  it('has no public default: unset, it is made at random for the data dir, readable by this user only', () => {
    const dir = join(tempDir(), 'data');

    expect(readLocalSettings({}, '/repo').webhookSecret).toBeUndefined();
    const secret = ensureWebhookSecret(dir);

    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(webhookSecretPath(dir)).mode & 0o777).toBe(0o600);
    expect(ensureWebhookSecret(tempDir())).not.toBe(secret);
  });

  it('stays the same across restarts, so the CLI reads the one Matinee uses', () => {
    const dir = tempDir();
    const secret = ensureWebhookSecret(dir);

    expect(ensureWebhookSecret(dir)).toBe(secret);
    expect(readWebhookSecret(dir)).toBe(secret);
  });

  it('is made readable by this user only again when found looser', () => {
    const dir = tempDir();
    ensureWebhookSecret(dir);
    chmodSync(webhookSecretPath(dir), 0o644);

    readWebhookSecret(dir);

    expect(statSync(webhookSecretPath(dir)).mode & 0o777).toBe(0o600);
  });
});
