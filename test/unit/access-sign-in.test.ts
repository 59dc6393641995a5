import {
  cookieName,
  decideCallback,
  decideFinish,
  decideGrant,
  decideSignInStart,
  hashNonce,
  permissionAdmits,
  type RepoPermission,
  returnState,
  signInCodeOf,
  signState,
  stateKey,
  verifyState,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';

const NOW = new Date('2026-05-01T12:00:00Z');
const LATER = new Date(NOW.getTime() + 11 * 60_000);
const KEY = stateKey('client-secret');
const NONCE = 'c'.repeat(64);
const HOST = 'fix-login-pr42.preview.example.com';
const SECRET = 'a'.repeat(32);

function started(nonce = NONCE) {
  const start = decideSignInStart({
    key: KEY,
    state: returnState(KEY, HOST, '/cart?x=1', NOW),
    https: true,
    now: NOW,
    nonce,
  });
  if (start.kind !== 'authorize') throw new Error(`not started: ${JSON.stringify(start)}`);
  return start;
}

/** The nonce cookie's name on an HTTPS stage (every test here but the plain-HTTP ones). */
const NONCE_COOKIE = '__Host-matinee_sign_in';

const callback = (query: Record<string, string>, cookie: string | undefined, now = NOW, https = true) =>
  decideCallback({ key: KEY, query: new URLSearchParams(query), cookie, https, now });

describe('sign-in state', () => {
  it('verifies what it signed, of the kind asked for, before it expires', () => {
    const state = returnState(KEY, HOST, '/a', NOW);

    expect(verifyState(KEY, state, 'return', NOW)).toEqual({
      ok: true,
      state: { kind: 'return', host: HOST, path: '/a', expires: NOW.getTime() / 1000 + 600 },
    });
    expect(verifyState(KEY, state, 'oauth', NOW)).toEqual({ ok: false, reason: 'wrong-kind' });
    expect(verifyState(KEY, state, 'return', LATER)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a state signed with another key, or with its payload altered', () => {
    const state = returnState(KEY, HOST, '/a', NOW);
    const [payload, mac] = state.split('.');
    const altered = Buffer.from(
      Buffer.from(payload ?? '', 'base64url')
        .toString()
        .replace(HOST, 'evil-pr1.preview.example.com'),
    ).toString('base64url');

    expect(verifyState(stateKey('other'), state, 'return', NOW)).toEqual({ ok: false, reason: 'invalid' });
    expect(verifyState(KEY, `${altered}.${mac}`, 'return', NOW)).toEqual({ ok: false, reason: 'invalid' });
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['no mac', 'abc'],
    ['short mac', 'abc.def'],
    ['huge', `${'a'.repeat(5000)}.${'b'.repeat(43)}`],
    ['html', '<script>.x'],
  ])('calls a %s state malformed', (_, state) => {
    expect(verifyState(KEY, state, 'return', NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('calls a signed state of the wrong shape malformed (a host with a path, a path that is a URL)', () => {
    const expires = NOW.getTime() / 1000 + 60;
    const badHost = signState(KEY, { kind: 'return', host: 'a.com/x', path: '/', expires });
    const badPath = signState(KEY, { kind: 'return', host: HOST, path: 'https://evil.example/', expires });

    expect(verifyState(KEY, badHost, 'return', NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyState(KEY, badPath, 'return', NOW)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('decideSignInStart', () => {
  it('binds a new oauth state to a __Host- nonce cookie over HTTPS: only the host itself can set one', () => {
    const start = started();

    // `__Host-`: browsers refuse it unless Secure, Path=/ and without Domain, as set by the host itself.
    expect(start.setCookie).toBe(
      `__Host-matinee_sign_in=${NONCE}; Path=/; Max-Age=600; HttpOnly; SameSite=Lax; Secure`,
    );
    expect(verifyState(KEY, start.state, 'oauth', NOW)).toMatchObject({
      ok: true,
      state: { host: HOST, path: '/cart?x=1', nonce: hashNonce(NONCE) },
    });
  });

  it('keeps a plain-named nonce cookie on the sign-in paths over plain HTTP (local mode), where no prefix can be', () => {
    const start = decideSignInStart({
      key: KEY,
      state: returnState(KEY, HOST, '/', NOW),
      https: false,
      now: NOW,
      nonce: NONCE,
    });

    expect(start).toMatchObject({
      setCookie: `matinee_sign_in=${NONCE}; Path=/__matinee/; Max-Age=600; HttpOnly; SameSite=Lax`,
    });
  });

  it.each([
    ['tampered', `${returnState(KEY, HOST, '/', NOW)}x`, 'state-malformed'],
    ['foreign', returnState(stateKey('other'), HOST, '/', NOW), 'state-invalid'],
    ['expired', returnState(KEY, HOST, '/', new Date(NOW.getTime() - 601_000)), 'state-expired'],
    ['absent', undefined, 'state-malformed'],
  ])('refuses a %s state with a 400', (_, state, reason) => {
    expect(decideSignInStart({ key: KEY, state, https: true, now: NOW })).toEqual({
      kind: 'refuse',
      status: 400,
      reason,
    });
  });

  it('does not start from an oauth state (only the route that made it accepts it back)', () => {
    const oauth = started().state;

    expect(decideSignInStart({ key: KEY, state: oauth, https: true, now: NOW })).toMatchObject({
      reason: 'state-invalid',
    });
  });
});

describe('decideCallback', () => {
  it('exchanges the code when the state is valid and the browser holds its nonce', () => {
    const { state } = started();

    expect(callback({ state, code: 'gh-code_1' }, `other=1; ${NONCE_COOKIE}=${NONCE}`)).toEqual({
      kind: 'exchange',
      host: HOST,
      path: '/cart?x=1',
      code: 'gh-code_1',
    });
  });

  it('refuses a callback opened in a browser that did not start the sign-in', () => {
    const { state } = started();

    expect(callback({ state, code: 'c' }, undefined)).toMatchObject({ status: 400, reason: 'nonce' });
    expect(callback({ state, code: 'c' }, `${NONCE_COOKIE}=${'d'.repeat(64)}`)).toMatchObject({
      reason: 'nonce',
    });
  });

  it('over HTTPS, ignores a nonce under the plain name, which a preview on a sibling host can plant', () => {
    const { state } = started();

    // A preview app's `Set-Cookie: matinee_sign_in=…; Domain=preview.example.com` reaches the stage's domain.
    expect(callback({ state, code: 'c' }, `matinee_sign_in=${NONCE}`)).toMatchObject({ reason: 'nonce' });
  });

  it('over plain HTTP, reads the plain name (and not a __Host- one, which plain HTTP cannot set)', () => {
    const { state } = started();

    expect(callback({ state, code: 'c' }, `matinee_sign_in=${NONCE}`, NOW, false)).toMatchObject({
      kind: 'exchange',
    });
    expect(callback({ state, code: 'c' }, `__Host-matinee_sign_in=${NONCE}`, NOW, false)).toMatchObject({
      reason: 'nonce',
    });
  });

  it('refuses an expired or tampered state before looking at the code', () => {
    const { state } = started();
    const cookie = `${NONCE_COOKIE}=${NONCE}`;

    expect(callback({ state, code: 'c' }, cookie, LATER)).toMatchObject({ reason: 'state-expired' });
    expect(callback({ state: `x${state}`, code: 'c' }, cookie)).toMatchObject({ reason: 'state-invalid' });
    expect(callback({ state: returnState(KEY, HOST, '/', NOW), code: 'c' }, cookie)).toMatchObject({
      reason: 'state-invalid',
    });
  });

  it('says the sign-in was cancelled when GitHub answers with an error, and refuses an odd code', () => {
    const { state } = started();
    const cookie = `${NONCE_COOKIE}=${NONCE}`;

    expect(callback({ state, error: 'access_denied' }, cookie)).toMatchObject({ reason: 'cancelled' });
    expect(callback({ state, code: '<b>' }, cookie)).toMatchObject({ reason: 'code-malformed' });
    expect(callback({ state }, cookie)).toMatchObject({ reason: 'code-malformed' });
  });
});

describe('permissionAdmits: explicit permission only', () => {
  const cases: [RepoPermission, boolean, boolean][] = [
    ['admin', true, true],
    ['maintain', true, true],
    ['write', true, true],
    ['triage', true, true],
    // GitHub answers `read` for anyone on a public repository.
    ['read', false, true],
    ['none', false, false],
  ];
  it.each(cases)('%s: public repository %s, private repository %s', (permission, onPublic, onPrivate) => {
    expect(permissionAdmits(permission, false)).toBe(onPublic);
    expect(permissionAdmits(permission, undefined)).toBe(onPublic);
    expect(permissionAdmits(permission, true)).toBe(onPrivate);
  });
});

describe('decideGrant', () => {
  it('grants a collaborator of a github-mode preview, and refuses a signed-in stranger with 403', () => {
    expect(decideGrant({ mode: 'github', permission: 'write', repoPrivate: false })).toEqual({
      kind: 'grant',
    });
    expect(decideGrant({ mode: 'github', permission: 'read', repoPrivate: false })).toEqual({
      kind: 'refuse',
      status: 403,
      reason: 'no-permission',
    });
  });

  it('signs nobody into a preview that is no longer in github mode', () => {
    for (const mode of ['public', 'link'] as const)
      expect(decideGrant({ mode, permission: 'admin', repoPrivate: true })).toMatchObject({
        reason: 'not-github-mode',
      });
  });
});

describe('decideFinish', () => {
  const environment = { slug: 'fix-login-pr42', secret: SECRET };

  it("sets the preview's own cookie and lands on the page first asked for, on this host", () => {
    const finish = decideFinish({
      grant: { host: HOST, path: '//evil.example/x?y=1' },
      host: HOST,
      mode: 'github',
      environment,
      https: true,
    });

    expect(finish).toEqual({
      kind: 'redirect',
      location: '/evil.example/x?y=1',
      setCookie: `${cookieName('fix-login-pr42')}=${SECRET}; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax; Secure`,
    });
  });

  it('never lands on another site, whatever the page asked for holds: browsers drop tabs and newlines', () => {
    for (const path of [
      '/\t/evil.example/',
      '/\n/evil.example',
      '/\\\r\\evil.example',
      '/\t\t//evil.example',
    ]) {
      const finish = decideFinish({
        grant: { host: HOST, path },
        host: HOST,
        mode: 'github',
        environment,
        https: true,
      });
      if (finish.kind !== 'redirect') throw new Error('refused');
      expect(new URL(finish.location, `https://${HOST}/`).host).toBe(HOST);
    }
  });

  it('refuses a used or unknown code, and a code issued for another preview', () => {
    const base = { host: HOST, mode: 'github' as const, environment, https: true };

    expect(decideFinish({ ...base, grant: undefined })).toMatchObject({
      status: 400,
      reason: 'code-unknown',
    });
    expect(
      decideFinish({ ...base, grant: { host: 'other-pr7.preview.example.com', path: '/' } }),
    ).toMatchObject({ status: 400, reason: 'code-unknown' });
  });

  it('reads only a well-formed code from the path', () => {
    expect(signInCodeOf(`/__matinee/signed-in?code=${'e'.repeat(64)}`)).toBe('e'.repeat(64));
    expect(signInCodeOf('/__matinee/signed-in?code=E')).toBeUndefined();
    expect(signInCodeOf('/__matinee/signed-in')).toBeUndefined();
  });
});
