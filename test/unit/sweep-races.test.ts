import { type Activity, desire, environmentId, onPullRequest, sweep, wake } from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

/**
 * The sweep lists awake environments, asks the load balancer about their traffic, then writes its sleep
 * decisions. Whatever lands between the listing and the write (a close, a sleep and a wake) must win: the
 * write decides again on what is stored then.
 */
const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.preview.example.com';
type H = ReturnType<typeof harness>;

async function idle(h: H) {
  await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await h.drain();
  h.cloud.startTasks();
  await h.reconcile(ID);
  h.bus.requests.length = 0;
  h.clock.advance(31 * 60_000);
}

/** Runs `act` after the sweep has listed the environments and before it writes: while it asks for traffic. */
function between(h: H, act: () => Promise<unknown>): void {
  const metrics = h.deps.activity;
  const racing: Activity = {
    requestActivity: async (...args) => {
      await act();
      return metrics.requestActivity(...args);
    },
  };
  h.deps.activity = racing as typeof h.deps.activity;
}

describe('the sweep, when the environment changes after it was listed', () => {
  it('leaves an environment woken meanwhile awake', async () => {
    const h = harness();
    await idle(h);
    between(h, async () => {
      const env = await h.store.get(ID);
      if (!env) throw new Error('no environment');
      const now = h.clock.now().toISOString();
      await h.store.save(desire(env, { phase: 'sleeping', reason: 'put to sleep by a command' }, now));
      await wake(h.deps, HOST);
    });

    const report = await sweep(h.deps);

    expect(report.slept).toEqual([]);
    expect((await h.store.get(ID))?.desired).toMatchObject({
      phase: 'running',
      reason: 'woken by a request',
    });
  });

  it('does not put an environment closed meanwhile to sleep', async () => {
    const h = harness();
    await idle(h);
    between(h, () =>
      onPullRequest(h.deps, {
        repo: 'acme/web',
        number: 42,
        action: 'closed',
        facts: facts({ open: false, updatedAt: '2026-11-02T10:00:00Z' }),
      }),
    );

    const report = await sweep(h.deps);

    expect(report.slept).toEqual([]);
    expect((await h.store.get(ID))?.desired.phase).toBe('deleted');
  });

  it('leaves an environment kept awake meanwhile awake', async () => {
    const h = harness();
    await idle(h);
    between(h, async () => {
      const env = await h.store.get(ID);
      if (!env) throw new Error('no environment');
      const until = new Date(h.clock.now().getTime() + 3600_000).toISOString();
      await h.store.save({ ...env, keepAwakeUntil: until });
    });

    expect((await sweep(h.deps)).slept).toEqual([]);
    expect((await h.store.get(ID))?.desired.phase).toBe('running');
  });
});
