import { createHash, createHmac, randomBytes } from 'node:crypto';
import { sameSecret } from './secret.ts';

/**
 * The `state` of a GitHub sign-in: which preview (host) and page (path) it is for, until when, and — once
 * the stage's sign-in route has started it — the hash of a nonce kept in that browser's cookie, all signed
 * with a key only Matinee holds. Nothing is stored until GitHub answers: a state is checked by its mac.
 *
 * Two kinds, never accepted in each other's place: `return`, made by a preview host for the stage's sign-in
 * route (so that route can send nobody to a host Matinee did not name), and `oauth`, made by that route for
 * GitHub and checked by the callback together with the browser's nonce (anti-CSRF: a callback opened in a
 * browser that did not start the sign-in is refused).
 */
export type StateKind = 'return' | 'oauth';

export interface SignInState {
  kind: StateKind;
  /** The preview's host. */
  host: string;
  /** Path and query to land on after signing in (without any token). */
  path: string;
  /** Epoch seconds. */
  expires: number;
  /** sha256 of the browser's nonce (hex); `oauth` states only. */
  nonce?: string;
}

/** How long a sign-in may take, from the preview's redirect to GitHub's answer. */
export const STATE_SECONDS = 10 * 60;
/** How long the one-time code handed to the preview host lives: it is used by the very next request. */
export const CODE_SECONDS = 60;
const MAX_STATE_LENGTH = 4096;
const MAX_PATH_LENGTH = 2048;
const hostPattern = /^[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})*$/;

/**
 * The key states are signed with, derived from the GitHub App's client secret: the one secret every place
 * that signs people in already holds, so nothing else needs storing or rotating. A new client secret ends
 * the sign-ins in flight, nothing more.
 */
export function stateKey(clientSecret: string): string {
  return createHmac('sha256', clientSecret).update('matinee sign-in state v1').digest('hex');
}

function mac(key: string, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

export function signState(key: string, state: SignInState): string {
  const payload = Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
  return `${payload}.${mac(key, payload)}`;
}

export type StateCheck =
  | { ok: true; state: SignInState }
  | { ok: false; reason: 'malformed' | 'invalid' | 'expired' | 'wrong-kind' };

function parsePayload(payload: string): SignInState | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { kind, host, path, expires, nonce } = value as Record<string, unknown>;
  if (kind !== 'return' && kind !== 'oauth') return undefined;
  if (typeof host !== 'string' || !hostPattern.test(host)) return undefined;
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > MAX_PATH_LENGTH) return undefined;
  if (typeof expires !== 'number' || !Number.isSafeInteger(expires)) return undefined;
  if (nonce !== undefined && (typeof nonce !== 'string' || !/^[0-9a-f]{64}$/.test(nonce))) return undefined;
  return { kind, host, path, expires, ...(nonce === undefined ? {} : { nonce }) };
}

/**
 * A state as given back by a browser or by GitHub: its mac first (in constant time), then its shape, kind
 * and expiry. Nothing in an unsigned or altered state is believed.
 */
export function verifyState(key: string, given: string | undefined, kind: StateKind, now: Date): StateCheck {
  if (!given || given.length > MAX_STATE_LENGTH) return { ok: false, reason: 'malformed' };
  const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(given);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, payload = '', signature = ''] = match;
  if (!sameSecret(signature, mac(key, payload))) return { ok: false, reason: 'invalid' };
  const state = parsePayload(payload);
  if (!state) return { ok: false, reason: 'malformed' };
  if (state.kind !== kind) return { ok: false, reason: 'wrong-kind' };
  if (state.expires <= Math.floor(now.getTime() / 1000)) return { ok: false, reason: 'expired' };
  return { ok: true, state };
}

/** A fresh random value for a browser's nonce cookie, or a one-time code: 256 bits, lowercase hex. */
export function newNonce(): string {
  return randomBytes(32).toString('hex');
}

export const noncePattern = /^[0-9a-f]{64}$/;

export function hashNonce(nonce: string): string {
  return createHash('sha256').update(nonce).digest('hex');
}

/** Epoch seconds `seconds` from `now`. */
export function expiresIn(now: Date, seconds: number): number {
  return Math.floor(now.getTime() / 1000) + seconds;
}
