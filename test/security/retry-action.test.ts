import { environmentId, onPullRequest, respondToWake, type WakeHttpRequest } from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

/**
 * The failed page's *Try again* is a form any web page could post from a visitor's browser, in a loop,
 * restarting a failed preview again and again. Only the preview's own page may post it (or a client that
 * is no browser page at all), and a preview is retried at most so often.
 */
type H = ReturnType<typeof harness>;

const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.preview.example.com';
const ORIGIN = `https://${HOST}`;

const post = (headers: Record<string, string> = {}): WakeHttpRequest => ({
  method: 'POST',
  host: HOST,
  path: '/__matinee/retry',
  accept: 'text/html',
  origin: ORIGIN,
  headers,
});

/** #42 opened, then its commit failed (as a stopped task or a missing image would make it). */
async function failed(h: H) {
  await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await h.drain();
  await fail(h);
}

async function fail(h: H) {
  const env = await h.store.get(ID);
  if (!env) throw new Error('no environment');
  const at = h.clock.now().toISOString();
  await h.store.save({
    ...env,
    observed: { ...env.observed, phase: 'failed', failure: { sha: env.desired.sha, reason: 'boom', at } },
  });
  h.bus.requests.length = 0;
}

const retries = (h: H) => h.bus.requests.filter((r) => r.reason === 'retry');
const stillFailed = async (h: H) => Boolean((await h.store.get(ID))?.observed.failure);

describe('the retry action', () => {
  it.each([
    ['another site (Sec-Fetch-Site)', { 'sec-fetch-site': 'cross-site' }],
    ['a sibling preview (Sec-Fetch-Site)', { 'sec-fetch-site': 'same-site' }],
    ['another origin (Origin)', { origin: 'https://evil.example' }],
    ['another preview (Origin)', { origin: 'https://other-pr7.preview.example.com' }],
    ['an opaque origin', { origin: 'null' }],
  ])('is refused from %s, and retries nothing', async (_, headers) => {
    const h = harness();
    await failed(h);

    const answer = await respondToWake(h.deps, post(headers));

    expect(answer.status).toBe(403);
    expect(retries(h)).toEqual([]);
    expect(await stillFailed(h)).toBe(true);
  });

  it.each([
    ['its own page (Sec-Fetch-Site)', { 'sec-fetch-site': 'same-origin', origin: ORIGIN }],
    ['its own page (Origin only)', { origin: ORIGIN }],
    ['a client that is no browser page (neither header)', {}],
  ])('is obeyed from %s', async (_, headers) => {
    const h = harness();
    await failed(h);

    const answer = await respondToWake(h.deps, post(headers));

    expect(answer).toMatchObject({ status: 303, headers: { location: '/' } });
    expect(retries(h)).toHaveLength(1);
    expect(await stillFailed(h)).toBe(false);
  });

  it('retries one preview at most so often: 429 with Retry-After, and it stays failed', async () => {
    const h = harness();
    h.deps.limits = { retriesPerPreview: { count: 2, windowSeconds: 600 } };
    await failed(h);

    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await respondToWake(h.deps, post())).status);
      if (i < 2) await fail(h);
    }

    expect(statuses).toEqual([303, 303, 429]);
    const refused = await respondToWake(h.deps, { ...post(), accept: 'application/json' });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(refused.body)).toMatchObject({ state: 'limited' });
    expect(retries(h)).toEqual([]);
    expect(await stillFailed(h)).toBe(true);
  });

  it('counts only presses that would retry something', async () => {
    const h = harness();
    h.deps.limits = { retriesPerPreview: { count: 1, windowSeconds: 600 } };
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();

    // Not failed: nothing to retry, nothing counted.
    for (let i = 0; i < 5; i++) expect((await respondToWake(h.deps, post())).status).toBe(303);
    await fail(h);

    expect((await respondToWake(h.deps, post())).status).toBe(303);
    expect(retries(h)).toHaveLength(1);
  });
});
