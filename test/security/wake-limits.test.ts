import {
  type EnvironmentId,
  environmentId,
  onPullRequest,
  respondToWake,
  type WakeHttpRequest,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

/**
 * A stranger who knows preview links can wake them in turn, and at capacity each wake puts a preview
 * somebody is using to sleep. Wakes are limited per client address and per preview; over a limit the
 * answer is 429 with Retry-After and nothing is woken or evicted. Only a request that would wake counts.
 */
type H = ReturnType<typeof harness>;

const BROWSER = 'text/html,application/xhtml+xml';
const STRANGER = '198.51.100.7';
const MINUTE = 60_000;

const id = (n: number) => environmentId('acme/web', n);
const host = (n: number) => `branch-${n}-pr${n}.preview.example.com`;

function request(n: number, overrides: Partial<WakeHttpRequest> = {}): WakeHttpRequest {
  return {
    method: 'GET',
    host: host(n),
    path: '/',
    accept: BROWSER,
    origin: `https://${host(n)}`,
    client: STRANGER,
    ...overrides,
  };
}

/** Previews 1..count, each started once and then put to sleep. */
async function sleepingPreviews(h: H, count: number) {
  for (let n = 1; n <= count; n++) {
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: n,
      action: 'opened',
      facts: facts({ branch: `branch-${n}` }),
    });
    await h.drain();
    h.cloud.startTasks();
    await h.reconcile(id(n));
    await putToSleep(h, id(n));
  }
  h.bus.requests.length = 0;
}

async function putToSleep(h: H, envId: EnvironmentId) {
  const env = await h.store.get(envId);
  if (!env) throw new Error(`no environment ${envId}`);
  await h.store.save({ ...env, desired: { ...env.desired, phase: 'sleeping', since: env.updatedAt } });
  await h.reconcile(envId);
  expect((await h.store.get(envId))?.observed.phase).toBe('sleeping');
}

const phase = async (h: H, n: number) => (await h.store.get(id(n)))?.desired.phase;

describe('wake limits', () => {
  it('stops a client waking preview after preview: 429 with Retry-After, nothing woken', async () => {
    const h = harness();
    h.deps.limits = { perClient: { count: 3, windowSeconds: 600 } };
    await sleepingPreviews(h, 4);

    const answers = [];
    for (let n = 1; n <= 4; n++) answers.push(await respondToWake(h.deps, request(n)));

    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    const refused = answers[3];
    expect(Number(refused?.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused?.headers['content-type']).toContain('text/html');
    expect(refused?.body).toContain('Too many wake-ups');
    expect(await phase(h, 4)).toBe('sleeping');
    expect(h.bus.ids).toEqual([id(1), id(2), id(3)]);
  });

  it('over the limit at capacity, puts nobody to sleep', async () => {
    const h = harness();
    h.deps.limits = { perClient: { count: 1, windowSeconds: 600 } };
    await sleepingPreviews(h, 3);
    h.deps.capacity = 1;
    // Someone is using preview 1.
    await respondToWake(h.deps, request(1, { client: '203.0.113.1' }));
    await h.drain();
    h.cloud.startTasks();
    await h.reconcile(id(1));

    await respondToWake(h.deps, request(2));
    await h.drain();
    const refused = await respondToWake(h.deps, request(3));
    await h.drain();

    expect(refused.status).toBe(429);
    expect(await phase(h, 3)).toBe('sleeping');
    // Preview 2's wake (allowed) made room; preview 3's (refused) made none.
    expect(await phase(h, 2)).toBe('running');
  });

  it('answers other clients over the limit with JSON 429 and Retry-After', async () => {
    const h = harness();
    h.deps.limits = { perClient: { count: 1, windowSeconds: 600 } };
    await sleepingPreviews(h, 2);
    h.clock.advance(4 * MINUTE);
    await respondToWake(h.deps, request(1, { accept: 'application/json' }));

    const refused = await respondToWake(h.deps, request(2, { accept: 'application/json' }));

    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toBe('application/json');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(600);
    expect(JSON.parse(refused.body)).toMatchObject({ state: 'limited', ready: false });
  });

  it('lets the client wake again once the window has passed', async () => {
    const h = harness();
    h.deps.limits = { perClient: { count: 1, windowSeconds: 600 } };
    await sleepingPreviews(h, 2);
    await respondToWake(h.deps, request(1));
    const refused = await respondToWake(h.deps, request(2));

    h.clock.advance(Number(refused.headers['retry-after']) * 1000);

    expect((await respondToWake(h.deps, request(2))).status).toBe(200);
    expect(await phase(h, 2)).toBe('running');
  });

  it('limits wakes of one preview, whoever asks', async () => {
    const h = harness();
    h.deps.limits = { perPreview: { count: 2, windowSeconds: 600 } };
    await sleepingPreviews(h, 1);

    const statuses = [];
    for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      statuses.push((await respondToWake(h.deps, request(1, { client }))).status);
      await h.drain();
      await putToSleep(h, id(1));
    }

    expect(statuses).toEqual([200, 200, 429]);
  });

  it('counts neither reloads of the waking page nor status polls', async () => {
    const h = harness();
    h.deps.limits = { perClient: { count: 2, windowSeconds: 600 } };
    await sleepingPreviews(h, 2);
    await respondToWake(h.deps, request(1));

    for (let i = 0; i < 20; i++) {
      expect((await respondToWake(h.deps, request(1))).status).toBe(200);
      expect((await respondToWake(h.deps, request(1, { path: '/__matinee/status' }))).status).toBe(200);
    }

    expect((await respondToWake(h.deps, request(2))).status).toBe(200);
  });

  it('counts a burst of requests for one sleeping preview as one wake', async () => {
    const h = harness();
    h.deps.limits = { perPreview: { count: 1, windowSeconds: 600 } };
    await sleepingPreviews(h, 1);

    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) => respondToWake(h.deps, request(1, { client: `203.0.113.${i}` }))),
    );

    expect(burst.every((answer) => answer.status === 200)).toBe(true);
    expect(h.bus.ids).toEqual([id(1)]);
  });

  it('counts the addresses of one IPv6 /64 as one client', async () => {
    // Whoever holds one address of a /64 can use any of its 2^64.
    const h = harness();
    h.deps.limits = { perClient: { count: 2, windowSeconds: 600 } };
    await sleepingPreviews(h, 3);

    const statuses = [];
    for (let n = 1; n <= 3; n++)
      statuses.push((await respondToWake(h.deps, request(n, { client: `2001:db8:1:2::${n}` }))).status);

    expect(statuses).toEqual([200, 200, 429]);
  });
});
