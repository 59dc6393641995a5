import { environmentId, onPullRequest, respondToWake, sweep, type WakeHttpRequest } from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.preview.example.com';

const request = (overrides: Partial<WakeHttpRequest> = {}): WakeHttpRequest => ({
  method: 'GET',
  host: HOST,
  path: '/',
  accept: 'text/html',
  origin: `https://${HOST}`,
  ...overrides,
});
const status = async (h: ReturnType<typeof harness>) =>
  JSON.parse(
    (await respondToWake(h.deps, request({ path: '/__matinee/status', accept: 'application/json' }))).body,
  );

/** Opened, started in `startSeconds` (from its first reconcile to healthy), then put to sleep. */
async function sleeping(startSeconds: number) {
  const h = harness();
  await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await h.drain();
  h.clock.advance(startSeconds * 1000);
  h.cloud.startTasks();
  await h.reconcile(ID);
  h.clock.advance(61 * 60_000);
  await sweep(h.deps);
  await h.drain();
  return h;
}

describe("the waking page's estimate", () => {
  it('comes from how long the first start took, before any wake was timed', async () => {
    const h = await sleeping(4);

    await respondToWake(h.deps, request());

    expect(await status(h)).toMatchObject({ state: 'waking', estimateSeconds: 4 });
  });

  it('comes from the timed wakes once there are some', async () => {
    const h = await sleeping(4);
    await respondToWake(h.deps, request());
    await h.drain();
    h.clock.advance(9_000);
    h.cloud.startTasks();
    await h.reconcile(ID);
    h.clock.advance(61 * 60_000);
    await sweep(h.deps);
    await h.drain();

    await respondToWake(h.deps, request());

    expect(await status(h)).toMatchObject({ state: 'waking', estimateSeconds: 9 });
  });
});

describe('the waking page through its states', () => {
  it('says it takes longer than usual past twice the estimate, and not before', async () => {
    const h = await sleeping(5);
    await respondToWake(h.deps, request());
    await h.drain();

    h.clock.advance(10_000);
    expect((await status(h)).message).toMatch(/^Usually takes about 5 s · 10 s so far/);
    h.clock.advance(1_000);
    expect((await status(h)).message).toMatch(
      /^Taking longer than usual: it usually takes about 5 s · 11 s so far/,
    );
    const page = await respondToWake(h.deps, request());
    expect(page.body).toContain('Taking longer than usual.');
  });

  it('announces states in a live region of their own, never the counter that changes every second', async () => {
    const h = await sleeping(5);

    const page = (await respondToWake(h.deps, request())).body;

    const live = [...page.matchAll(/<[^>]*(?:aria-live|role="status")[^>]*>/g)].map((match) => match[0]);
    expect(live).toEqual(['<p id="said" role="status" aria-live="polite">']);
    expect(page).toMatch(/<p id="progress" class="muted">Usually takes about 5 s · 0 s so far<\/p>/);
  });

  it('follows a failure, a removal and a pull request that is not deployed without a reload', async () => {
    const h = await sleeping(5);

    const page = (await respondToWake(h.deps, request())).body;

    // Each end state has its heading and its one announcement; only a failure offers to try again.
    expect(page).toContain("failed: ['This preview failed to start', 'Failed to start.']");
    expect(page).toContain("gone: ['This preview is gone', 'Removed.']");
    expect(page).toContain("skipped: ['This pull request is not deployed', 'Not deployed.']");
    expect(page).toContain("$('retry').hidden = s.state !== 'failed'");
    expect(page).toContain('<form id="retry" method="post" action="/__matinee/retry" hidden>');
  });
});
