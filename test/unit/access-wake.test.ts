import {
  environmentId,
  onPullRequest,
  respondToWake,
  sweep,
  UserError,
  type WakeHttpRequest,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { WEB_CONFIG } from '../support/configs.ts';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.preview.example.com';
const BROWSER = 'text/html,application/xhtml+xml';
type H = ReturnType<typeof harness>;

async function open(h: H) {
  await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await h.drain();
  h.cloud.startTasks();
  await h.drain();
  await h.reconcile(ID);
}

async function asleep(h: H) {
  await open(h);
  h.clock.advance(31 * 60_000);
  await sweep(h.deps);
  await h.drain();
}

async function secretOf(h: H) {
  const env = await h.store.get(ID);
  if (!env?.accessSecret) throw new Error('no secret');
  return { secret: env.accessSecret, cookie: `matinee_${env.slug}=${env.accessSecret}` };
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

/** Everything a request could have changed: the store, the bus, the limits, the cloud. */
async function footprint(h: H) {
  return {
    writes: h.store.writes,
    reconciles: h.bus.requests.length,
    env: JSON.stringify(await h.store.get(ID)),
    cloud: h.cloud.calls.filter((call) => call !== 'describe').length,
  };
}

describe('the wake path of a private preview', () => {
  it('answers 401 without the link and wakes nothing, whatever is asked', async () => {
    const h = harness({ access: 'link' });
    await asleep(h);
    const { secret } = await secretOf(h);
    const before = await footprint(h);

    const answers = [
      await respondToWake(h.deps, request()),
      await respondToWake(h.deps, request({ accept: 'application/json' })),
      await respondToWake(h.deps, request({ path: '/__matinee/status' })),
      await respondToWake(h.deps, request({ method: 'POST', path: '/__matinee/retry' })),
      await respondToWake(
        h.deps,
        request({ headers: { cookie: `matinee_fix-login-pr42=${'0'.repeat(32)}` } }),
      ),
      await respondToWake(h.deps, request({ path: `/?matinee_token=${secret.toUpperCase()}` })),
      await respondToWake(h.deps, request({ path: '/?matinee_token=..%2f..' })),
    ];

    for (const answer of answers) expect(answer.status).toBe(401);
    expect(answers[0]?.body).toContain('This preview is private');
    expect(answers[0]?.body).toContain('matinee ls');
    for (const answer of answers) {
      expect(answer.body).not.toContain('acme');
      expect(answer.body).not.toContain('fix-login</');
      expect(answer.body).not.toContain(secret);
    }
    expect(await footprint(h)).toEqual(before);
    expect(h.log.text).not.toContain(secret);
  });

  it('sets the cookie for a valid link and redirects to the clean URL, waking nothing yet', async () => {
    const h = harness({ access: 'link' });
    await asleep(h);
    const { secret, cookie } = await secretOf(h);
    const before = await footprint(h);

    const answer = await respondToWake(h.deps, request({ path: `/orders?page=2&matinee_token=${secret}` }));

    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe('/orders?page=2');
    expect(answer.headers['set-cookie']).toBe(
      `${cookie}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax; Secure`,
    );
    expect(answer.headers['referrer-policy']).toBe('no-referrer');
    expect(await footprint(h)).toEqual(before);
  });

  it('wakes for the cookie, and shows the pull request to its holder', async () => {
    const h = harness({ access: 'link' });
    await asleep(h);
    const { cookie } = await secretOf(h);

    const answer = await respondToWake(h.deps, request({ headers: { cookie } }));

    expect(answer.status).toBe(200);
    expect(answer.body).toContain('Waking up');
    expect(answer.body).toContain('acme/web#42');
    expect(h.bus.ids).toContain(ID);
  });

  it('refuses one preview’s cookie on another', async () => {
    const h = harness({ access: 'link' });
    await asleep(h);
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 7,
      action: 'opened',
      facts: facts({ branch: 'other' }),
    });
    await h.drain();
    const other = await h.store.get(environmentId('acme/web', 7));
    const forged = `matinee_fix-login-pr42=${other?.accessSecret}; matinee_${other?.slug}=${other?.accessSecret}`;

    expect((await respondToWake(h.deps, request({ headers: { cookie: forged } }))).status).toBe(401);
  });

  it('a failed private preview says so only to the link holder', async () => {
    const h = harness({ access: 'link' });
    h.cloud.failIn(2, 'before', new UserError('CannotPullContainerError: image not found'));
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();
    const { cookie } = await secretOf(h);

    const stranger = await respondToWake(h.deps, request());
    const holder = await respondToWake(h.deps, request({ headers: { cookie } }));

    expect(stranger.status).toBe(401);
    expect(holder.status).toBe(502);
    expect(holder.body).toContain('CannotPullContainerError');
  });

  it('a repository’s `access: link` makes a public stage’s preview private', async () => {
    const h = harness({ access: 'public' });
    h.source.setConfig('acme/web', `access: link\n${WEB_CONFIG}`);
    await asleep(h);

    expect((await respondToWake(h.deps, request())).status).toBe(401);
  });

  it('a repository cannot make a private stage’s preview public', async () => {
    const h = harness({ access: 'link' });
    h.source.setConfig('acme/web', `access: public\n${WEB_CONFIG}`);
    await asleep(h);

    expect((await respondToWake(h.deps, request())).status).toBe(401);
  });

  it('leaves public previews as they were', async () => {
    const h = harness();
    await asleep(h);

    const answer = await respondToWake(h.deps, request());

    expect(answer.status).toBe(200);
    expect(answer.body).not.toContain('acme/web#42');
  });
});

describe('the host rule of a private preview', () => {
  it('requires the environment’s cookie, and only a public preview’s rule does not', async () => {
    const h = harness({ access: 'link' });
    await open(h);
    const { secret } = await secretOf(h);

    expect(h.cloud.rules.get(HOST)?.access).toEqual({ cookieName: 'matinee_fix-login-pr42', secret });
  });

  it('is public without a mode', async () => {
    const h = harness();
    await open(h);

    expect(h.cloud.rules.get(HOST)).toBeDefined();
    expect(h.cloud.rules.get(HOST)?.access).toBeUndefined();
  });
});

describe('the secret of a fork’s preview', () => {
  it('is replaced when the maintainer takes the deploy label off, and the rule follows', async () => {
    const h = harness({ access: 'link' });
    h.source.permissions.set('acme/web maintainer', 'maintain');
    const labelled = facts({
      fork: true,
      labels: ['matinee:deploy'],
      labeledBy: { 'matinee:deploy': 'maintainer' },
      updatedAt: '2026-11-02T09:01:00Z',
    });
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'labeled', facts: labelled });
    await h.drain();
    h.cloud.startTasks();
    await h.drain();
    await h.reconcile(ID);
    const { secret } = await secretOf(h);
    expect(h.cloud.rules.get(HOST)?.access?.secret).toBe(secret);

    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'unlabeled',
      facts: facts({ fork: true, labels: [], updatedAt: '2026-11-02T09:02:00Z' }),
    });
    await h.drain();

    const after = (await h.store.get(ID))?.accessSecret;
    expect(after).toMatch(/^[0-9a-f]{32}$/);
    expect(after).not.toBe(secret);
    expect(h.cloud.rules.get(HOST)?.access?.secret ?? after).toBe(after);
  });

  it('is kept when a pull request is closed and reopened: nobody new was shown it', async () => {
    const h = harness({ access: 'link' });
    await open(h);
    const { secret } = await secretOf(h);

    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'closed',
      facts: facts({ open: false, updatedAt: '2026-11-02T10:00:00Z' }),
    });
    await h.drain();
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'reopened',
      facts: facts({ updatedAt: '2026-11-02T11:00:00Z' }),
    });
    await h.drain();

    expect((await h.store.get(ID))?.accessSecret).toBe(secret);
  });
});
