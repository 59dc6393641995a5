import {
  type AccessMode,
  accessCookie,
  cookieName,
  decideAccess,
  effectiveAccess,
  isWellFormedSecret,
  linkWithToken,
  newAccessSecret,
  type PreviewState,
  parseAccessMode,
  sameSecret,
  shareToken,
  urlWithoutToken,
  withoutCookie,
  withoutToken,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';

const NOW = new Date('2026-05-01T12:00:00Z');
const SECRET = `${'a'.repeat(16)}0123456789abcdef`;
const OTHER = 'b'.repeat(32);
const ENV = { slug: 'fix-login-pr42', secret: SECRET };
const NAME = cookieName(ENV.slug);

type Credential = 'none' | 'valid' | "other env's" | 'expired' | 'malformed';

/** The same credential as a cookie and as a link, where it can be both (an expired one is only a link). */
const carriers: Record<Credential, { cookie?: string; path: string; reason?: string }[]> = {
  none: [{ path: '/page?q=1' }, { cookie: 'session=abc; theme=dark', path: '/page?q=1' }],
  valid: [{ cookie: `theme=dark; ${NAME}=${SECRET}`, path: '/page?q=1' }],
  "other env's": [
    { cookie: `${NAME}=${OTHER}`, path: '/page?q=1' },
    // Another preview's cookie under its own name is no cookie of this one at all.
    { cookie: `${cookieName('other-pr7')}=${SECRET}`, path: '/page?q=1', reason: 'missing' },
    { path: `/page?q=1&matinee_token=${OTHER}` },
    { path: `/page?q=1&matinee_token=${shareToken(OTHER, ENV.slug, new Date(NOW.getTime() + 3600_000))}` },
    {
      path: `/page?q=1&matinee_token=${shareToken(SECRET, 'other-pr7', new Date(NOW.getTime() + 3600_000))}`,
    },
  ],
  expired: [{ path: `/page?matinee_token=${shareToken(SECRET, ENV.slug, new Date(NOW.getTime() - 1000))}` }],
  malformed: [
    { cookie: `${NAME}=${SECRET.toUpperCase()}`, path: '/' },
    { cookie: `${NAME}=`, path: '/' },
    { cookie: `${NAME}=${SECRET}x`, path: '/' },
    { path: `/?matinee_token=${SECRET.slice(1)}` },
    { path: '/?matinee_token=%00%ff' },
    { path: '/?matinee_token=' },
    { path: `/?matinee_token=${'9'.repeat(13)}-${'a'.repeat(40)}` },
  ],
};

const modes: AccessMode[] = ['public', 'link', 'github'];
const states: PreviewState[] = ['awake', 'asleep', 'waking', 'failed'];
const credentials = Object.keys(carriers) as Credential[];

describe('decideAccess: every mode × state × credential', () => {
  for (const mode of modes)
    for (const state of states)
      for (const credential of credentials)
        it(`${mode}, ${state}, ${credential} credential`, () => {
          for (const { reason, ...carrier } of carriers[credential]) {
            const decision = decideAccess({
              mode,
              state,
              environment: ENV,
              https: true,
              now: NOW,
              ...carrier,
            });
            if (mode === 'public') expect(decision).toEqual({ kind: 'allow', viewer: 'public' });
            else if (credential === 'valid') expect(decision).toEqual({ kind: 'allow', viewer: 'allowed' });
            else
              expect(decision).toEqual({
                kind: 'deny',
                reason:
                  reason ??
                  { none: 'missing', "other env's": 'invalid', expired: 'expired', malformed: 'malformed' }[
                    credential
                  ],
                signIn: mode === 'github',
              });
          }
        });
});

describe('decideAccess: a valid link', () => {
  for (const mode of ['link', 'github'] as const)
    for (const state of states)
      it(`sets the cookie and redirects to the same URL without the token (${mode}, ${state})`, () => {
        const decision = decideAccess({
          mode,
          state,
          environment: ENV,
          path: `/a/b?x=1&matinee_token=${SECRET}&y=%20z`,
          https: true,
          now: NOW,
        });
        expect(decision).toEqual({
          kind: 'redirect',
          location: '/a/b?x=1&y=%20z',
          setCookie: `${NAME}=${SECRET}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax; Secure`,
        });
      });

  it('leaves Secure out over plain HTTP (local mode) and never sets a Domain', () => {
    const decision = decideAccess({
      mode: 'link',
      state: 'asleep',
      environment: ENV,
      path: `/?matinee_token=${SECRET}`,
      https: false,
      now: NOW,
    });
    expect(decision).toEqual({
      kind: 'redirect',
      location: '/',
      setCookie: `${NAME}=${SECRET}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax`,
    });
  });

  it('redirects on this host only, however the path starts', () => {
    const decision = decideAccess({
      mode: 'link',
      state: 'awake',
      environment: ENV,
      path: `//evil.example/x?matinee_token=${SECRET}`,
      https: true,
      now: NOW,
    });
    expect(decision).toMatchObject({ kind: 'redirect', location: '/evil.example/x' });
  });

  it('a share link sets the cookie until the link expires', () => {
    const expires = new Date(NOW.getTime() + 7200_000);
    const decision = decideAccess({
      mode: 'github',
      state: 'asleep',
      environment: ENV,
      path: `/?matinee_token=${shareToken(SECRET, ENV.slug, expires)}`,
      https: true,
      now: NOW,
    });
    expect(decision).toMatchObject({ kind: 'redirect', location: '/' });
    expect(decision.kind === 'redirect' && decision.setCookie).toContain('Max-Age=7200;');
  });

  it('a valid cookie wins over a bad token, as the load balancer forwards on the cookie alone', () => {
    const decision = decideAccess({
      mode: 'link',
      state: 'awake',
      environment: ENV,
      cookie: `${NAME}=${OTHER}; ${NAME}=${SECRET}`,
      path: `/?matinee_token=${OTHER}`,
      https: true,
      now: NOW,
    });
    expect(decision).toEqual({ kind: 'allow', viewer: 'allowed' });
  });

  it('an environment without a secret yet opens to nobody', () => {
    const decision = decideAccess({
      mode: 'link',
      state: 'asleep',
      environment: { slug: ENV.slug },
      cookie: `${NAME}=${SECRET}`,
      path: `/?matinee_token=${SECRET}`,
      https: true,
      now: NOW,
    });
    expect(decision).toMatchObject({ kind: 'deny' });
  });
});

describe('secrets, modes and tokens in URLs', () => {
  it('makes secrets of 32 lowercase hex digits, each different', () => {
    const secrets = new Set(Array.from({ length: 50 }, newAccessSecret));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) expect(isWellFormedSecret(secret)).toBe(true);
  });

  it('takes one cookie out of a Cookie header, whole name only, keeping the others', () => {
    const name = cookieName('fix-login-pr42');

    expect(withoutCookie(`a=1; ${name}=${SECRET}; b=2`, name)).toBe('a=1; b=2');
    expect(withoutCookie(`${name}=x;${name}=y`, name)).toBeUndefined();
    expect(withoutCookie(`${name}-2=x; x${name}=y`, name)).toBe(`${name}-2=x; x${name}=y`);
    expect(withoutCookie(undefined, name)).toBeUndefined();
  });

  it('compares secrets whole', () => {
    expect(sameSecret(SECRET, SECRET)).toBe(true);
    expect(sameSecret(SECRET, `${SECRET.slice(0, 31)}0`)).toBe(false);
    expect(sameSecret(SECRET, SECRET.slice(0, 31))).toBe(false);
  });

  it('lets a repository make access only stricter than the stage', () => {
    expect(effectiveAccess('link', 'public')).toBe('link');
    expect(effectiveAccess('link', 'github')).toBe('github');
    expect(effectiveAccess('public', 'link')).toBe('link');
    expect(effectiveAccess('github', 'link')).toBe('github');
    expect(effectiveAccess('link', undefined)).toBe('link');
  });

  it('reads the stage setting, naming the values it accepts', () => {
    expect(parseAccessMode(undefined, 'link')).toBe('link');
    expect(parseAccessMode(' GitHub ', 'public')).toBe('github');
    expect(() => parseAccessMode('private', 'link')).toThrow(/public, link, github.*"private"/);
  });

  it('strips the token from paths and URLs, keeping everything else as written', () => {
    expect(withoutToken(`/x?a=1&matinee_token=${SECRET}&b=%2F+c`)).toBe('/x?a=1&b=%2F+c');
    expect(withoutToken(`/x?matinee%5Ftoken=${SECRET}`)).toBe('/x');
    expect(withoutToken('/x?matinee_tokens=1')).toBe('/x?matinee_tokens=1');
    expect(urlWithoutToken(`https://h.example/p?matinee_token=${SECRET}#frag`)).toBe('https://h.example/p');
    expect(linkWithToken('https://h.example', SECRET)).toBe(`https://h.example/?matinee_token=${SECRET}`);
  });

  it('names the cookie after the slug and keeps it host-only', () => {
    expect(accessCookie(NAME, SECRET, true, 60)).not.toMatch(/domain/i);
  });
});
