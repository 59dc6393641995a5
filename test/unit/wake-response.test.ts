import {
  environmentId,
  onPullRequest,
  respondToWake,
  sweep,
  UserError,
  type WakeHttpRequest,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.preview.example.com';
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

async function open(h: ReturnType<typeof harness>, number = 42, branch = 'fix-login') {
  await onPullRequest(h.deps, { repo: 'acme/web', number, action: 'opened', facts: facts({ branch }) });
  await h.drain();
  h.cloud.startTasks();
  await h.drain();
  await h.reconcile(environmentId('acme/web', number));
}

async function asleep(h: ReturnType<typeof harness>) {
  await open(h);
  h.clock.advance(31 * 60_000);
  await sweep(h.deps);
  await h.drain();
}

const request = (overrides: Partial<WakeHttpRequest> = {}): WakeHttpRequest => ({
  method: 'GET',
  host: `${HOST}:443`,
  path: '/dashboard?tab=1',
  accept: BROWSER,
  origin: `https://${HOST}`,
  ...overrides,
});

describe('the wake path over HTTP', () => {
  it('gives a browser the waking page at once, not cacheable, polling the status endpoint', async () => {
    const h = harness();
    await asleep(h);
    const response = await respondToWake(h.deps, request());
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toMatch(/no-store/);
    expect(response.body).toContain('Waking up');
    expect(response.body).toContain("fetch('/__matinee/status'");
  });

  it('gives other clients 503 with Retry-After while waking', async () => {
    const h = harness();
    await asleep(h);
    const response = await respondToWake(h.deps, request({ accept: 'application/json' }));
    expect(response.status).toBe(503);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(2);
    // No wake timed yet: the estimate is the first start's, instant here (and never under 1 s).
    expect(JSON.parse(response.body)).toMatchObject({ state: 'waking', ready: false, estimateSeconds: 1 });
  });

  it('reports status without waking anything', async () => {
    const h = harness();
    await asleep(h);
    const writes = h.store.writes;
    const response = await respondToWake(
      h.deps,
      request({ path: '/__matinee/status', accept: 'application/json' }),
    );
    expect(response.status).toBe(200);
    expect(h.store.writes).toBe(writes);
    expect(h.bus.ids).toEqual([]);
  });

  it('says ready on the status endpoint once the environment serves again', async () => {
    const h = harness();
    await asleep(h);
    await respondToWake(h.deps, request());
    await h.drain();
    h.cloud.startTasks();
    await h.reconcile(ID);
    const response = await respondToWake(h.deps, request({ path: '/__matinee/status' }));
    // Matinee answering at all means the app does not serve the host yet: the page keeps polling.
    expect(JSON.parse(response.body)).toMatchObject({ state: 'ready', ready: false });
    expect(response.headers['x-matinee']).toBe('status');
  });

  it('asks for the missing host rule of a ready environment, showing the waking page meanwhile', async () => {
    const h = harness();
    await open(h);
    h.cloud.rules.clear();

    const response = await respondToWake(h.deps, request());
    await h.drain();

    expect(response.status).toBe(200);
    expect(response.body).toContain('routing requests to it');
    expect(h.cloud.rules.has(HOST)).toBe(true);
  });

  it('answers 404 for a host without an environment', async () => {
    const h = harness();
    expect((await respondToWake(h.deps, request({ host: 'nope.preview.example.com' }))).status).toBe(404);
    expect(
      (await respondToWake(h.deps, request({ host: 'nope.preview.example.com', accept: '*/*' }))).status,
    ).toBe(404);
  });

  it('answers 410 once the pull request is closed, with the reason to an allowed viewer', async () => {
    const h = harness();
    await open(h);
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'closed',
      facts: facts({ open: false, merged: true, updatedAt: '2026-11-02T10:00:00Z' }),
    });
    await h.drain();
    const response = await respondToWake(h.deps, request());
    h.deps.settings = { ...h.deps.settings, access: 'link' };
    const env = await h.store.get(ID);
    const allowed = await respondToWake(
      h.deps,
      request({ headers: { cookie: `matinee_${env?.slug}=${env?.accessSecret}` } }),
    );
    h.deps.settings = { ...h.deps.settings, access: 'public' };
    expect(response.status).toBe(410);
    expect(response.body).toContain('This preview was removed');
    expect(allowed.body).toContain('pull request merged');
  });

  it('shows why a failed environment failed, with a retry that tries again', async () => {
    const h = harness();
    h.cloud.failIn(2, 'before', new UserError('CannotPullContainerError: ghcr.io/acme/web:aaaa not found'));
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();

    const page = await respondToWake(h.deps, request());
    expect(page.status).toBe(502);
    expect(page.body).toContain('CannotPullContainerError');
    expect(page.body).toContain('action="/__matinee/retry"');

    const retry = await respondToWake(
      h.deps,
      request({ method: 'POST', path: '/__matinee/retry', headers: { 'sec-fetch-site': 'same-origin' } }),
    );
    expect(retry).toMatchObject({ status: 303, headers: { location: '/' } });
    expect(h.bus.ids).toContain(ID);
  });

  it("keeps the account id and ARNs of ECS's reason off the public page, and the reason's sense on it", async () => {
    const h = harness();
    h.cloud.failIn(
      2,
      'before',
      new UserError(
        'CannotPullContainerError: pull 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:aaaa: not found (role arn:aws:iam::123456789012:role/exec)',
      ),
    );
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();

    const page = await respondToWake(h.deps, request());
    const api = await respondToWake(h.deps, request({ accept: 'application/json' }));

    for (const body of [page.body, api.body]) {
      expect(body).toContain('CannotPullContainerError: pull');
      expect(body).toContain('not found');
      expect(body).not.toContain('123456789012');
      expect(body).not.toContain('role/exec');
    }
    expect((await h.store.get(ID))?.observed.failure?.reason).toContain('123456789012');
  });

  it('escapes what it shows from the pull request', async () => {
    const h = harness();
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'opened',
      facts: facts({ branch: '<script>x</script>' }),
    });
    const env = await h.store.get(ID);
    // Only a viewer allowed to see the pull request's details gets its branch on the page at all.
    h.deps.settings = { ...h.deps.settings, access: 'link' };
    const response = await respondToWake(
      h.deps,
      request({ host: env?.host ?? '', headers: { cookie: `matinee_${env?.slug}=${env?.accessSecret}` } }),
    );
    expect(response.body).not.toContain('<script>x</script>');
    expect(response.body).toContain('&lt;script&gt;x&lt;/script&gt;');
  });

  it('at capacity, puts the least recently used awake environment to sleep and says so, without naming it', async () => {
    const h = harness();
    await open(h, 41, 'older');
    h.clock.advance(60_000);
    await open(h, 43, 'newer');
    h.clock.advance(60_000);
    await asleepOnly(h);

    h.deps.capacity = 2;

    await respondToWake(h.deps, request());
    await h.drain();

    expect((await h.store.get(environmentId('acme/web', 41)))?.desired.phase).toBe('sleeping');
    expect((await h.store.get(environmentId('acme/web', 43)))?.desired.phase).toBe('running');
    // Everyone waiting on the link is told, on the page and by the status it polls; which preview went to
    // sleep is another pull request's business.
    const note = 'another preview is put to sleep to make room';
    for (const response of [
      await respondToWake(h.deps, request()),
      await respondToWake(h.deps, request({ path: '/__matinee/status' })),
    ]) {
      expect(response.body).toContain(note);
      expect(response.body).not.toContain('older');
      expect(response.body).not.toContain('pr41');
    }
  });
});

/** Creates #42 and puts only it to sleep. */
async function asleepOnly(h: ReturnType<typeof harness>) {
  await open(h);
  const env = await h.store.get(ID);
  if (!env) throw new Error('no environment');
  await h.store.save({ ...env, desired: { ...env.desired, phase: 'sleeping' } });
  await h.reconcile(ID);
  expect((await h.store.get(ID))?.observed.phase).toBe('sleeping');
}
