import type { RepoPermission, SignInGrant } from '../ports.ts';
import { accessCookie, cookieName, cookieValues } from './credentials.ts';
import type { AccessMode } from './mode.ts';
import { sameSecret } from './secret.ts';
import {
  expiresIn,
  hashNonce,
  newNonce,
  noncePattern,
  type SignInState,
  STATE_SECONDS,
  signState,
  verifyState,
} from './sign-in-state.ts';

/**
 * The decisions of `github` mode's sign-in, pure: given what a request carries (and, for the last steps,
 * what GitHub and the store said), what to answer. The HTTP routes (http/sign-in-routes.ts) only carry
 * them out.
 *
 *  1. A preview host, no valid cookie: redirect to the stage's sign-in route with a `return` state.
 *  2. The sign-in route: checks that state, sets a nonce cookie, sends the browser to GitHub with an `oauth`
 *     state bound to the nonce.
 *  3. The callback: checks the `oauth` state and the nonce; the code is exchanged and the permission read.
 *  4. Only an explicit permission on the repository admits: a one-time code for the preview host.
 *  5. The preview host consumes the code (once) and sets the same cookie a link sets.
 */

/** Sign-ins last as long as a link's cookie: a rotated secret (`/matinee rotate-link`) ends them sooner. */
export const SIGN_IN_COOKIE_SECONDS = 7 * 24 * 3600;
/**
 * The cookie holding the browser's nonce, on the stage's domain. Previews are the domain's subdomains, and a
 * preview's app (anyone's pull request) may set cookies for the parent domain, which the stage's domain then
 * receives: a nonce it planted would let it finish its own sign-in in a victim's browser (login CSRF, the
 * victim then browsing the preview as the attacker's session). Over HTTPS the name takes the `__Host-` prefix,
 * which browsers accept only from the host itself, Secure, with `Path=/` and no Domain, so no sibling can
 * set it; and only that name is read. Plain HTTP (local mode) cannot carry the prefix: a plain name, sent only
 * to the sign-in paths.
 */
export function nonceCookie(https: boolean): { name: string; path: string } {
  return https
    ? { name: '__Host-matinee_sign_in', path: '/' }
    : { name: 'matinee_sign_in', path: '/__matinee/' };
}

/** The nonce cookie's Set-Cookie: `value` for `maxAge` seconds (0 clears it, with the same attributes). */
export function nonceSetCookie(https: boolean, value: string, maxAge: number): string {
  const { name, path } = nonceCookie(https);
  const cookie = [
    `${name}=${value}`,
    `Path=${path}`,
    `Max-Age=${maxAge}`,
    'HttpOnly',
    // Lax: sent on GitHub's top-level redirect back to the callback, not on other sites' subrequests.
    'SameSite=Lax',
  ];
  if (https) cookie.push('Secure');
  return cookie.join('; ');
}
export const SIGN_IN_PATHS = {
  /** On the stage's domain: starts a sign-in. */
  start: '/__matinee/sign-in',
  /** On the stage's domain: where GitHub sends the browser back (the one callback URL to register). */
  callback: '/__matinee/github/callback',
  /** On a preview host: where the one-time code is exchanged for the preview's cookie. */
  finish: '/__matinee/signed-in',
} as const;

export type SignInRefusal =
  | { kind: 'refuse'; status: 400; reason: 'state-malformed' | 'state-invalid' | 'state-expired' | 'nonce' }
  | { kind: 'refuse'; status: 400; reason: 'code-malformed' | 'code-unknown' | 'cancelled' }
  | { kind: 'refuse'; status: 403; reason: 'no-permission' | 'not-github-mode' };

function stateRefusal(reason: 'malformed' | 'invalid' | 'expired' | 'wrong-kind'): SignInRefusal {
  if (reason === 'expired') return { kind: 'refuse', status: 400, reason: 'state-expired' };
  if (reason === 'malformed') return { kind: 'refuse', status: 400, reason: 'state-malformed' };
  return { kind: 'refuse', status: 400, reason: 'state-invalid' };
}

/** Step 1: the state a preview host sends to the sign-in route. */
export function returnState(key: string, host: string, path: string, now: Date): string {
  return signState(key, { kind: 'return', host, path, expires: expiresIn(now, STATE_SECONDS) });
}

/** Step 2: a valid `return` state starts a sign-in; anything else is refused and nothing is set. */
export function decideSignInStart(input: {
  key: string;
  state: string | undefined;
  /** Whether the stage's domain is served over HTTPS (the nonce cookie is then Secure). */
  https: boolean;
  now: Date;
  /** The nonce to use (tests); a fresh random one otherwise. */
  nonce?: string;
}): { kind: 'authorize'; state: string; setCookie: string } | SignInRefusal {
  const check = verifyState(input.key, input.state, 'return', input.now);
  if (!check.ok) return stateRefusal(check.reason);
  const nonce = input.nonce ?? newNonce();
  const { host, path } = check.state;
  const state: SignInState = {
    kind: 'oauth',
    host,
    path,
    expires: expiresIn(input.now, STATE_SECONDS),
    nonce: hashNonce(nonce),
  };
  return {
    kind: 'authorize',
    state: signState(input.key, state),
    setCookie: nonceSetCookie(input.https, nonce, STATE_SECONDS),
  };
}

/** Step 3: GitHub's answer, checked before any call is made with its code. */
export function decideCallback(input: {
  key: string;
  query: URLSearchParams;
  cookie: string | undefined;
  /** Whether the stage's domain is served over HTTPS: then only the `__Host-` nonce counts. */
  https: boolean;
  now: Date;
}): { kind: 'exchange'; host: string; path: string; code: string } | SignInRefusal {
  const check = verifyState(input.key, input.query.get('state') ?? undefined, 'oauth', input.now);
  if (!check.ok) return stateRefusal(check.reason);
  const nonces = cookieValues(input.cookie, nonceCookie(input.https).name).filter((value) =>
    noncePattern.test(value),
  );
  if (!nonces.some((nonce) => sameSecret(hashNonce(nonce), check.state.nonce ?? '')))
    return { kind: 'refuse', status: 400, reason: 'nonce' };
  // The user said no on GitHub's page (`error=access_denied`), or GitHub sent no code.
  if (input.query.get('error')) return { kind: 'refuse', status: 400, reason: 'cancelled' };
  const code = input.query.get('code') ?? '';
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(code)) return { kind: 'refuse', status: 400, reason: 'code-malformed' };
  return { kind: 'exchange', host: check.state.host, path: check.state.path, code };
}

const explicitRoles: readonly RepoPermission[] = ['admin', 'maintain', 'write', 'triage'];

/**
 * Whether GitHub's answer for a user is an explicit permission on the repository. GitHub reports `read` for
 * every user on a public repository (anyone can read it), so there `read` proves nothing and only triage or
 * more admits; on a private repository (or one whose visibility Matinee was not told, taken as public) the
 * user could not read it without being given access, so `read` admits.
 */
export function permissionAdmits(permission: RepoPermission, repoPrivate: boolean | undefined): boolean {
  if (explicitRoles.includes(permission)) return true;
  return permission === 'read' && repoPrivate === true;
}

/** Step 4: after GitHub answered, whether the user gets a one-time code for the preview. */
export function decideGrant(input: {
  mode: AccessMode;
  permission: RepoPermission;
  repoPrivate: boolean | undefined;
}): { kind: 'grant' } | SignInRefusal {
  // The preview's mode may have changed since the sign-in began: only `github` mode signs people in.
  if (input.mode !== 'github') return { kind: 'refuse', status: 403, reason: 'not-github-mode' };
  return permissionAdmits(input.permission, input.repoPrivate)
    ? { kind: 'grant' }
    : { kind: 'refuse', status: 403, reason: 'no-permission' };
}

/**
 * Step 5: a consumed code sets the preview's cookie and sends the browser to the page it first asked for,
 * on this host only. A code for another host, or a preview no longer in `github` mode, sets nothing.
 */
export function decideFinish(input: {
  grant: SignInGrant | undefined;
  host: string;
  mode: AccessMode;
  environment: { slug: string; secret?: string };
  https: boolean;
}): { kind: 'redirect'; location: string; setCookie: string } | SignInRefusal {
  const { grant, environment } = input;
  if (!grant || grant.host !== input.host || !environment.secret)
    return { kind: 'refuse', status: 400, reason: 'code-unknown' };
  if (input.mode !== 'github') return { kind: 'refuse', status: 403, reason: 'not-github-mode' };
  return {
    kind: 'redirect',
    location: sameSiteLocation(grant.path),
    setCookie: accessCookie(
      cookieName(environment.slug),
      environment.secret,
      input.https,
      SIGN_IN_COOKIE_SECONDS,
    ),
  };
}

/**
 * `path` as a Location on this host only. `//evil.example/` would be another site, so one leading slash,
 * always; and browsers drop tabs and newlines anywhere in a URL (`/\t/evil.example` is `//evil.example`),
 * so control characters and spaces are percent-encoded before the leading slashes are counted.
 */
export function sameSiteLocation(path: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is encoded
  const encoded = path.replace(/[\u0000-\u0020\u007f]/g, (c) => encodeURIComponent(c));
  return `/${encoded.replace(/^[/\\]+/, '')}`;
}

/** A one-time code as a request carries it: 64 lowercase hex digits, or nothing. */
export function signInCodeOf(path: string): string | undefined {
  const query = path.includes('?') ? path.slice(path.indexOf('?') + 1) : '';
  const code = new URLSearchParams(query).get('code') ?? '';
  return noncePattern.test(code) ? code : undefined;
}
