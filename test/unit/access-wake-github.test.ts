import {
  environmentId,
  onPullRequest,
  type PreviewSignIn,
  refusalPage,
  respondToSignIn,
  respondToWake,
  returnState,
  type SignInCodes,
  type SignInGrant,
  shareToken,
  stateKey,
  sweep,
  verifyState,
  type WakeHttpRequest,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

/** The wake path of a `github`-mode preview, with in-memory one-time codes: what happens before sign-in. */
const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.preview.example.com';
const BROWSER = 'text/html,application/xhtml+xml';
const KEY = stateKey('client-secret');
const CODE = 'f'.repeat(64);

/** One-time codes as the port says: a grant once, nothing after its expiry. */
class MemoryCodes implements SignInCodes {
  readonly codes = new Map<string, { grant: SignInGrant; expiresAt: Date }>();
  async issue(code: string, grant: SignInGrant, expiresAt: Date) {
    this.codes.set(code, { grant, expiresAt });
  }
  async consume(code: string, now: Date) {
    const found = this.codes.get(code);
    this.codes.delete(code);
    return found && found.expiresAt > now ? found.grant : undefined;
  }
}

async function asleep() {
  const h = harness({ access: 'github' });
  const signIn: PreviewSignIn = { key: KEY, codes: new MemoryCodes() };
  const deps = { ...h.deps, signIn };
  await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await h.drain();
  h.cloud.startTasks();
  await h.drain();
  await h.reconcile(ID);
  h.clock.advance(31 * 60_000);
  await sweep(h.deps);
  await h.drain();
  const footprint = async () => ({
    writes: h.store.writes,
    reconciles: h.bus.requests.length,
    env: JSON.stringify(await h.store.get(ID)),
  });
  return { h, deps, codes: signIn.codes as MemoryCodes, footprint };
}

const request = (overrides: Partial<WakeHttpRequest> = {}): WakeHttpRequest => ({
  method: 'GET',
  host: HOST,
  path: '/orders?page=2',
  accept: BROWSER,
  origin: `https://${HOST}`,
  client: '198.51.100.7',
  ...overrides,
});

describe('the wake path of a github-mode preview', () => {
  it('sends a browser without a cookie to sign in on the stage’s domain, for the page it asked for, waking nothing', async () => {
    const { h, deps, footprint } = await asleep();
    const before = await footprint();

    const answer = await respondToWake(deps, request());

    expect(answer.status).toBe(302);
    const location = new URL(answer.headers.location ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('https://preview.example.com/__matinee/sign-in');
    expect(verifyState(KEY, location.searchParams.get('state') ?? '', 'return', h.clock.now())).toMatchObject(
      {
        ok: true,
        state: { host: HOST, path: '/orders?page=2' },
      },
    );
    expect(await footprint()).toEqual(before);
  });

  it('answers 401 where a redirect would not do: an API client, a form post, a refused token', async () => {
    const { deps, footprint } = await asleep();
    const before = await footprint();

    const api = await respondToWake(deps, request({ accept: 'application/json' }));
    const post = await respondToWake(deps, request({ method: 'POST' }));
    const token = await respondToWake(deps, request({ path: `/?matinee_token=${'0'.repeat(32)}` }));

    expect([api.status, post.status, token.status]).toEqual([401, 401, 401]);
    expect(token.body).toContain('Sign in with GitHub');
    expect(token.body).toContain('href="https://preview.example.com/__matinee/sign-in?state=');
    expect(await footprint()).toEqual(before);
  });

  it('returns to the home page after signing in when the page asked for is too long for a state', async () => {
    const { h, deps } = await asleep();

    const answer = await respondToWake(deps, request({ path: `/search?q=${'x'.repeat(3000)}` }));

    const state = new URL(answer.headers.location ?? '').searchParams.get('state') ?? '';
    expect(verifyState(KEY, state, 'return', h.clock.now())).toMatchObject({
      ok: true,
      state: { path: '/' },
    });
  });

  it('still lets an outside reviewer in with a share link, without signing in', async () => {
    const { h, deps } = await asleep();
    const env = await h.store.get(ID);
    const token = shareToken(
      env?.accessSecret ?? '',
      env?.slug ?? '',
      new Date(h.clock.now().getTime() + 3600_000),
    );

    const answer = await respondToWake(deps, request({ path: `/orders?matinee_token=${token}` }));

    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe('/orders');
    expect(answer.headers['set-cookie']).toMatch(/Max-Age=3600;/);
  });

  it('turns a one-time code into the preview’s cookie once, waking nothing yet', async () => {
    const { h, deps, codes, footprint } = await asleep();
    await codes.issue(CODE, { host: HOST, path: '/orders' }, new Date(h.clock.now().getTime() + 60_000));
    const before = await footprint();
    const env = await h.store.get(ID);

    const first = await respondToWake(deps, request({ path: `/__matinee/signed-in?code=${CODE}` }));
    const second = await respondToWake(deps, request({ path: `/__matinee/signed-in?code=${CODE}` }));

    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/orders');
    expect(first.headers['set-cookie']).toMatch(new RegExp(`^matinee_${env?.slug}=${env?.accessSecret}; `));
    expect(second.status).toBe(400);
    expect(second.headers['set-cookie']).toBeUndefined();
    expect(await footprint()).toEqual(before);
  });

  it('refuses an expired code, a malformed one, and one issued for another preview', async () => {
    const { h, deps, codes } = await asleep();
    const soon = new Date(h.clock.now().getTime() + 60_000);
    await codes.issue(CODE, { host: HOST, path: '/' }, soon);
    await codes.issue('e'.repeat(64), { host: 'other-pr7.preview.example.com', path: '/' }, soon);
    h.clock.advance(61_000);

    const expired = await respondToWake(deps, request({ path: `/__matinee/signed-in?code=${CODE}` }));
    const malformed = await respondToWake(deps, request({ path: '/__matinee/signed-in?code=<b>' }));
    const foreign = await respondToWake(
      deps,
      request({ path: `/__matinee/signed-in?code=${'e'.repeat(64)}` }),
    );

    for (const answer of [expired, malformed, foreign]) {
      expect(answer.status).toBe(400);
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
    expect(malformed.body).not.toContain('<b>');
  });
});

describe('the sign-in refusal pages', () => {
  it('escape the login GitHub named', () => {
    const page = refusalPage(
      { kind: 'refuse', status: 403, reason: 'no-permission' },
      'preview.example.com',
      '<img src=x onerror=alert(1)>',
    );

    expect(page.status).toBe(403);
    expect(page.body).toContain('@&lt;img src=x onerror=alert(1)&gt;');
    expect(page.body).not.toContain('<img');
  });
});

describe('the stage’s sign-in routes', () => {
  /** The routes with a GitHub whose authorization page is skipped and whose `check` the test gives. */
  async function started(check: () => Promise<never>) {
    const { h, codes } = await asleep();
    const deps = {
      key: KEY,
      codes,
      store: h.store,
      settings: h.deps.settings,
      clock: h.clock,
      log: h.log,
      github: {
        authorizeUrl: ({ state }: { state: string }) =>
          `https://github.example/authorize?state=${encodeURIComponent(state)}`,
        check,
      },
    };
    const start = await respondToSignIn(deps, {
      method: 'GET',
      path: `/__matinee/sign-in?state=${encodeURIComponent(returnState(KEY, HOST, '/', h.clock.now()))}`,
    });
    const state = new URL(start?.headers.location ?? '').searchParams.get('state') ?? '';
    const nonce = String(start?.headers['set-cookie']).split(';')[0] ?? '';
    return { h, deps, codes, start, state, nonce };
  }
  const unused = async (): Promise<never> => {
    throw new Error('GitHub is not to be called');
  };

  it('answers only GET: a HEAD of the callback would spend GitHub’s code as a GET does', async () => {
    const { deps } = await started(unused);

    for (const method of ['POST', 'HEAD'])
      expect(
        (await respondToSignIn(deps, { method, path: '/__matinee/github/callback?code=x' }))?.status,
      ).toBe(405);
    expect(await respondToSignIn(deps, { method: 'GET', path: '/api/environments' })).toBeUndefined();
  });

  it('answers 502 when GitHub fails mid-sign-in, issuing no code and logging no code', async () => {
    const { h, deps, codes, start, state, nonce } = await started(async () => {
      throw new Error('GitHub did not answer who signed in (status 503)');
    });

    const answer = await respondToSignIn(deps, {
      method: 'GET',
      path: `/__matinee/github/callback?code=the-code&state=${encodeURIComponent(state)}`,
      cookie: nonce,
    });

    expect(start?.status).toBe(302);
    expect(answer?.status).toBe(502);
    expect(answer?.headers['set-cookie']).toBeUndefined();
    expect(codes.codes.size).toBe(0);
    expect(h.log.text).toContain('status 503');
    expect(h.log.text).not.toContain('the-code');
  });
});
