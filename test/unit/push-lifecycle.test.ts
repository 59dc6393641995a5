import { environmentId, onPullRequest, type PullRequestFacts, statusReport, sweep } from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts, SHA_A, SHA_B } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

/** WEB_CONFIG's idle window is 30 minutes. */
const ID = environmentId('acme/web', 42);
const MINUTE = 60_000;

function event(h: ReturnType<typeof harness>, action: string, overrides: Partial<PullRequestFacts> = {}) {
  return onPullRequest(h.deps, { repo: 'acme/web', number: 42, action, facts: facts(overrides) });
}

/** Runs the reconciles asked for, lets the tasks come up healthy, and reconciles again: the commit is served. */
async function serve(h: ReturnType<typeof harness>) {
  await h.drain();
  h.cloud.startTasks();
  await h.reconcile(ID);
  h.bus.requests.length = 0;
}

describe('a push to an awake preview', () => {
  it('restarts its idle clock once the new commit is ready', async () => {
    const h = harness();
    await event(h, 'opened');
    await serve(h);
    h.clock.advance(25 * MINUTE);

    await event(h, 'synchronize', { headSha: SHA_B, updatedAt: '2026-11-02T09:25:00Z' });
    await h.drain();
    h.clock.advance(2 * MINUTE); // the new commit takes a while to start
    h.cloud.startTasks();
    await h.reconcile(ID);
    const readyAt = h.clock.now();

    const env = await h.store.get(ID);
    expect(env?.observed).toMatchObject({ phase: 'ready', sha: SHA_B });
    expect(env?.servingSince).toBe(readyAt.toISOString());
    // 35 minutes after it woke, 8 after the push was served: awake.
    h.clock.advance(8 * MINUTE);
    expect((await sweep(h.deps)).slept).toEqual([]);
    // The pull request says when it really sleeps: 30 minutes after the new commit was ready.
    expect(env && statusReport(env, h.clock.now())?.sleepsAt).toBe(
      new Date(readyAt.getTime() + 30 * MINUTE).toISOString(),
    );
    // Its idle window, counted from the new commit, has passed: asleep.
    h.clock.advance(23 * MINUTE);
    expect((await sweep(h.deps)).slept).toEqual([ID]);
  });

  it('does not restart the clock while the new commit is not ready yet', async () => {
    const h = harness();
    await event(h, 'opened');
    await serve(h);
    const firstReady = (await h.store.get(ID))?.servingSince;
    h.clock.advance(25 * MINUTE);

    await event(h, 'synchronize', { headSha: SHA_B, updatedAt: '2026-11-02T09:25:00Z' });
    await h.drain();

    expect((await h.store.get(ID))?.servingSince).toBe(firstReady);
  });

  it('a wake of the same commit does not count as a new one', async () => {
    const h = harness();
    await event(h, 'opened');
    await serve(h);
    const firstReady = (await h.store.get(ID))?.servingSince;
    h.clock.advance(31 * MINUTE);
    await sweep(h.deps);
    await h.drain();

    await event(h, 'labeled', { labels: ['x'], updatedAt: '2026-11-02T09:40:00Z' });
    await serve(h);

    const env = await h.store.get(ID);
    expect(env?.observed).toMatchObject({ phase: 'ready', sha: SHA_A });
    expect(env?.servingSince).toBe(firstReady);
  });
});

describe('a push to a closed pull request', () => {
  it('is refused with a message that says to reopen it, and changes nothing', async () => {
    const h = harness();
    await event(h, 'opened');
    await serve(h);
    await event(h, 'closed', { open: false, updatedAt: '2026-11-02T10:00:00Z' });
    await h.drain();
    const closed = await h.store.get(ID);

    const outcome = await event(h, 'synchronize', { headSha: SHA_B, updatedAt: '2026-11-02T10:05:00Z' });

    const reason =
      'acme/web#42 is closed: pull_request.synchronize does not bring its preview back; reopen the pull request first';
    expect(outcome).toEqual({ status: 'refused', id: ID, reason });
    expect(await h.store.get(ID)).toEqual(closed);
    expect(h.bus.requests).toEqual([]);
    expect(h.log.lines).toContainEqual(expect.objectContaining({ level: 'warn', message: reason }));
  });

  it('is deployed again once the pull request is reopened', async () => {
    const h = harness();
    await event(h, 'opened');
    await event(h, 'closed', { open: false, updatedAt: '2026-11-02T10:00:00Z' });

    const outcome = await event(h, 'reopened', { headSha: SHA_B, updatedAt: '2026-11-02T10:05:00Z' });

    expect(outcome).toEqual({ status: 'recorded', id: ID, desired: 'running' });
    expect((await h.store.get(ID))?.desired).toMatchObject({ phase: 'running', sha: SHA_B });
  });
});
