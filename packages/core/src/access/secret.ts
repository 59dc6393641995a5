import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * An environment's access secret: 32 lowercase hex digits (128 random bits). Lowercase hex because the
 * ALB matches header values case-insensitively; 32 so that its cookie condition `*matinee_<slug>=<secret>*`
 * fits the 128 characters of a rule condition value with the longest slug (63).
 */
export const SECRET_LENGTH = 32;
const secretPattern = /^[0-9a-f]{32}$/;

export function newAccessSecret(): string {
  return randomBytes(SECRET_LENGTH / 2).toString('hex');
}

export function isWellFormedSecret(value: string): boolean {
  return secretPattern.test(value);
}

/** Equal strings, in time that does not depend on where they differ (lengths are not secret). */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A share link's token: `<expiry in epoch seconds>-<mac>`, the mac an HMAC of the slug and expiry under
 * the environment's secret. Nothing is stored: rotating the secret withdraws every share link too.
 */
export function shareToken(secret: string, slug: string, expiresAt: Date): string {
  const expiry = Math.floor(expiresAt.getTime() / 1000);
  return `${expiry}-${shareMac(secret, slug, expiry)}`;
}

export function shareMac(secret: string, slug: string, expiry: number): string {
  return createHmac('sha256', secret).update(`share\n${slug}\n${expiry}`).digest('hex').slice(0, 40);
}

export const sharePattern = /^(\d{1,12})-([0-9a-f]{40})$/;
