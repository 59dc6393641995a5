import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Local mode's webhook secret when MATINEE_WEBHOOK_SECRET is not set: random, made once per data dir and
 * kept there readable by this user only, so that nobody else on the machine can sign webhooks (a constant
 * default would let anyone). `npm start` makes it; the CLI reads it to sign what it sends.
 */
export function webhookSecretPath(dataDir: string): string {
  return join(dataDir, 'webhook-secret');
}

/** The data dir's webhook secret, made now if there is none. */
export function ensureWebhookSecret(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = webhookSecretPath(dataDir);
  try {
    // `wx`: two Matinees starting at once cannot overwrite each other's secret.
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const secret = readWebhookSecret(dataDir);
  if (!secret) throw new Error(`${path} is empty: delete it, and Matinee makes a new one`);
  return secret;
}

/** The data dir's webhook secret, or undefined when `npm start` has not made one there yet. */
export function readWebhookSecret(dataDir: string): string | undefined {
  const path = webhookSecretPath(dataDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  chmodSync(path, 0o600); // copied or restored with a looser mode: this user's only, again
  return text.trim() || undefined;
}
