import type { Viewer } from '../http/pages.ts';
import {
  accessCookie,
  cookieName,
  cookieValues,
  LINK_COOKIE_SECONDS,
  tokenValues,
  withoutToken,
} from './credentials.ts';
import type { AccessMode } from './mode.ts';
import { isWellFormedSecret, sameSecret, shareMac, sharePattern } from './secret.ts';

/** Where the preview is, as the policy is asked about it. The decision is the same in every state. */
export type PreviewState = 'awake' | 'asleep' | 'waking' | 'failed';

export interface AccessRequest {
  mode: AccessMode;
  state: PreviewState;
  /** The environment the request's host belongs to: its slug names the cookie, its secret opens it. */
  environment: { slug: string; secret?: string };
  /** Path and query as requested. */
  path: string;
  /** The Cookie header. */
  cookie?: string;
  /** Whether the preview is served over HTTPS (the cookie is then Secure). */
  https: boolean;
  now: Date;
}

/** Why a request was refused: for tests and counters, never shown (it would help a guesser). */
export type DenyReason = 'missing' | 'invalid' | 'expired' | 'malformed';

export type AccessDecision =
  /** Serve it (forward to the app, or the wake path with pages for `viewer`). */
  | { kind: 'allow'; viewer: Viewer }
  /**
   * A valid link: set the cookie and send the browser to the same URL without the token (303), so that it
   * lingers neither in history nor in a Referer. Nothing wakes on this answer; the next request does.
   */
  | { kind: 'redirect'; location: string; setCookie: string }
  /** 401: no app content, no repository details, never a wake. `signIn`: offer Sign in with GitHub. */
  | { kind: 'deny'; reason: DenyReason; signIn: boolean };

type Check = { kind: 'valid'; maxAgeSeconds: number } | { kind: Exclude<DenyReason, 'missing'> };

function checkToken(token: string, env: AccessRequest['environment'], now: Date): Check {
  const share = sharePattern.exec(token);
  if (!isWellFormedSecret(token) && !share) return { kind: 'malformed' };
  if (!env.secret) return { kind: 'invalid' };
  if (!share)
    return sameSecret(token, env.secret)
      ? { kind: 'valid', maxAgeSeconds: LINK_COOKIE_SECONDS }
      : { kind: 'invalid' };
  const expiry = Number(share[1]);
  if (!sameSecret(share[2] ?? '', shareMac(env.secret, env.slug, expiry))) return { kind: 'invalid' };
  const left = expiry - Math.floor(now.getTime() / 1000);
  return left > 0 ? { kind: 'valid', maxAgeSeconds: left } : { kind: 'expired' };
}

function checkCookie(value: string, env: AccessRequest['environment']): Check {
  if (!isWellFormedSecret(value)) return { kind: 'malformed' };
  return env.secret && sameSecret(value, env.secret)
    ? { kind: 'valid', maxAgeSeconds: LINK_COOKIE_SECONDS }
    : { kind: 'invalid' };
}

/** The first valid check, else the most telling refusal (expired, then invalid, then malformed). */
function best(checks: Check[]): Check | undefined {
  const order = ['valid', 'expired', 'invalid', 'malformed'] as const;
  for (const kind of order) {
    const found = checks.find((check) => check.kind === kind);
    if (found) return found;
  }
  return undefined;
}

/**
 * A redirect target on this host only: a request path like `//evil.example/` would otherwise send the
 * browser to another site (a protocol-relative URL).
 */
function sameSiteLocation(path: string): string {
  return `/${path.replace(/^[/\\]+/, '')}`;
}

/**
 * Whether a request may reach a preview: the one access policy, used by the local router for awake
 * previews and by the wake path (the ALB's default action) for the rest. It decides exactly as the ALB's
 * cookie condition does for awake previews: a valid cookie forwards, whatever else the request carries.
 * Without one, a valid `matinee_token` (the link's secret, or an unexpired share link) sets the cookie and
 * redirects; anything else is refused.
 */
export function decideAccess(request: AccessRequest): AccessDecision {
  if (request.mode === 'public') return { kind: 'allow', viewer: 'public' };
  const { environment: env } = request;
  const name = cookieName(env.slug);
  const cookie = best(cookieValues(request.cookie, name).map((value) => checkCookie(value, env)));
  if (cookie?.kind === 'valid') return { kind: 'allow', viewer: 'allowed' };
  const token = best(tokenValues(request.path).map((value) => checkToken(value, env, request.now)));
  const signIn = request.mode === 'github';
  if (token?.kind === 'valid' && env.secret) {
    return {
      kind: 'redirect',
      location: sameSiteLocation(withoutToken(request.path)),
      setCookie: accessCookie(name, env.secret, request.https, token.maxAgeSeconds),
    };
  }
  const refusal = token ?? cookie;
  return { kind: 'deny', reason: refusal && refusal.kind !== 'valid' ? refusal.kind : 'missing', signIn };
}
