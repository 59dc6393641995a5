import {
  awakeSecondsUntil,
  environmentId,
  onBranchDeleted,
  onPullRequest,
  type PullRequestFacts,
  RULE_REPAIR_INTERVAL_SECONDS,
  sweep,
  UserError,
  wake,
} from '@matinee/core';
import { describe, expect, it, vi } from 'vitest';
import { WEB_CONFIG } from '../support/configs.ts';
import { facts, SHA_A, SHA_B } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.preview.example.com';

function event(
  h: ReturnType<typeof harness>,
  action: string,
  overrides: Partial<PullRequestFacts> = {},
  number = 42,
) {
  return onPullRequest(h.deps, { repo: 'acme/web', number, action, facts: facts(overrides) });
}

/** An environment that is up and serving, with its tasks healthy. */
async function ready(h: ReturnType<typeof harness>) {
  await event(h, 'opened');
  await h.drain();
  h.cloud.startTasks();
  await h.reconcile(ID);
  h.bus.requests.length = 0;
}

describe('pull request events', () => {
  it('opening a pull request records a running environment at its host and asks for one reconcile', async () => {
    const h = harness();
    const outcome = await event(h, 'opened');
    expect(outcome).toEqual({ status: 'recorded', id: ID, desired: 'running' });
    expect(await h.store.get(ID)).toMatchObject({
      host: HOST,
      desired: { phase: 'running', sha: SHA_A },
      observed: { phase: 'pending' },
    });
    expect(h.bus.ids).toEqual([ID]);
    expect(h.cloud.calls).toEqual([]);
  });

  it('a push records the new commit', async () => {
    const h = harness();
    await event(h, 'opened');
    await event(h, 'synchronize', { headSha: SHA_B, updatedAt: '2026-11-02T09:01:00Z' });
    expect((await h.store.get(ID))?.desired).toMatchObject({
      phase: 'running',
      sha: SHA_B,
      reason: 'pushed bbbbbbb',
    });
    expect(h.bus.ids).toEqual([ID, ID]);
  });

  it('an older push arriving after a newer one changes nothing', async () => {
    const h = harness();
    await event(h, 'opened');
    await event(h, 'synchronize', { headSha: SHA_B, updatedAt: '2026-11-02T09:02:00Z' });
    const before = await h.store.get(ID);

    const outcome = await event(h, 'synchronize', { headSha: SHA_A, updatedAt: '2026-11-02T09:01:00Z' });

    expect(outcome).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/^stale delivery/) });
    expect(await h.store.get(ID)).toEqual(before);
    expect(h.bus.ids).toHaveLength(2);
  });

  it.each([
    [true, 'pull request merged'],
    [false, 'pull request closed'],
  ])('closing (merged: %s) wants the environment deleted', async (merged, reason) => {
    const h = harness();
    await event(h, 'opened');
    await event(h, 'closed', { open: false, merged, updatedAt: '2026-11-02T10:00:00Z' });
    expect((await h.store.get(ID))?.desired).toMatchObject({ phase: 'deleted', reason });
  });

  it('a late push cannot bring a closed pull request back, but reopening does', async () => {
    const h = harness();
    await event(h, 'opened');
    await event(h, 'closed', { open: false, updatedAt: '2026-11-02T10:00:00Z' });
    await event(h, 'synchronize', { headSha: SHA_B, updatedAt: '2026-11-02T09:30:00Z' });
    expect((await h.store.get(ID))?.desired.phase).toBe('deleted');

    await event(h, 'reopened', { updatedAt: '2026-11-02T11:00:00Z' });
    expect((await h.store.get(ID))?.desired.phase).toBe('running');
  });

  it('ignores a closed pull request that never had an environment', async () => {
    const h = harness();
    expect(await event(h, 'closed', { open: false })).toMatchObject({ status: 'ignored' });
    expect(await h.store.listAll()).toEqual([]);
    expect(h.bus.ids).toEqual([]);
  });

  it('a title edit refreshes facts without asking for a reconcile', async () => {
    const h = harness();
    await event(h, 'opened');
    await event(h, 'edited', { updatedAt: '2026-11-02T09:03:00Z' });
    expect(h.bus.ids).toEqual([ID]);
  });

  it('gives the same branch and number in another repository another host', async () => {
    const h = harness();
    await event(h, 'opened');
    await onPullRequest(h.deps, { repo: 'acme/api', number: 42, action: 'opened', facts: facts() });
    const other = await h.store.get(environmentId('acme/api', 42));
    expect(other?.host).toMatch(/^fix-login-pr42-[0-9a-f]{8}\.preview\.example\.com$/);
  });

  it('deleting a branch deletes the environments of that branch only', async () => {
    const h = harness();
    await event(h, 'opened');
    await event(h, 'opened', { branch: 'other' }, 43);
    const deleted = await onBranchDeleted(h.deps, 'acme/web', 'fix-login');
    expect(deleted).toEqual([ID]);
    expect((await h.store.get(ID))?.desired).toMatchObject({
      phase: 'deleted',
      reason: 'branch fix-login deleted',
    });
    expect((await h.store.get(environmentId('acme/web', 43)))?.desired.phase).toBe('running');
  });

  it('closing removes every resource of the environment', async () => {
    const h = harness();
    await ready(h);
    await event(h, 'closed', { open: false, merged: true, updatedAt: '2026-11-02T10:00:00Z' });
    await h.drain();
    expect((await h.store.get(ID))?.observed.phase).toBe('deleted');
    // The tombstone answers 410 for 30 days from the teardown, to the millisecond.
    expect((await h.store.get(ID))?.expiresAt).toBe(
      new Date(h.clock.now().getTime() + 30 * 86_400_000).toISOString(),
    );
    expect(h.cloud.inventory()).toEqual([]);
  });
});

describe('sweep', () => {
  it('puts an environment to sleep after its idle window without requests', async () => {
    const h = harness();
    await ready(h);
    h.clock.advance(31 * 60_000);
    const report = await sweep(h.deps);
    await h.drain();
    expect(report.slept).toEqual([ID]);
    expect((await h.store.get(ID))?.observed.phase).toBe('sleeping');
    expect(h.cloud.rules.size).toBe(0);
    expect(h.cloud.services.get(`matinee-test-fix-login-pr42`)?.desiredCount).toBe(0);
  });

  it('counts the time spent awake, which the cost estimate reads', async () => {
    const h = harness();
    await ready(h);
    h.clock.advance(31 * 60_000);
    await sweep(h.deps);
    h.clock.advance(5 * 60_000);
    const env = await h.store.get(ID);
    expect(env?.awakeSeconds).toBe(31 * 60);
    expect(env && awakeSecondsUntil(env, h.clock.now())).toBe(31 * 60);
  });

  it('keeps an environment awake that served requests in its window', async () => {
    const h = harness();
    await ready(h);
    h.clock.advance(31 * 60_000);
    h.cloud.requests.set(ID, 3);
    expect((await sweep(h.deps)).slept).toEqual([]);
  });

  it('records the last request the load balancer counted, so it is not asked about again within its window', async () => {
    const h = harness();
    await ready(h);
    h.clock.advance(31 * 60_000);
    h.cloud.requests.set(ID, 3);

    await sweep(h.deps);

    expect((await h.store.get(ID))?.lastRequestAt).toBe(h.clock.now().toISOString());
    h.cloud.calls.length = 0;
    h.clock.advance(10 * 60_000);
    expect((await sweep(h.deps)).slept).toEqual([]);
    expect(h.cloud.calls).not.toContain('requestActivity');
  });

  it('does not sleep an environment woken within its idle window, and asks no metrics for it', async () => {
    const h = harness();
    await ready(h);
    h.clock.advance(10 * 60_000);
    expect((await sweep(h.deps)).slept).toEqual([]);
    expect(h.cloud.calls).not.toContain('requestActivity');
  });

  it('reads only awake environments', async () => {
    const h = harness();
    await ready(h);
    const listAll = vi.spyOn(h.store, 'listAll');
    h.clock.advance(31 * 60_000);
    await sweep(h.deps);
    await h.drain();
    expect(listAll).not.toHaveBeenCalled();
    expect((await sweep(h.deps)).examined).toBe(0);
  });
});

describe('wake', () => {
  async function asleep(h: ReturnType<typeof harness>) {
    await ready(h);
    h.clock.advance(31 * 60_000);
    await sweep(h.deps);
    await h.drain();
    h.bus.requests.length = 0;
  }

  it('answers unknown for a host no environment has', async () => {
    expect(await wake(harness().deps, 'nope.preview.example.com')).toEqual({ kind: 'unknown' });
  });

  it('wakes a sleeping environment exactly once under a burst of 100 requests', async () => {
    const h = harness();
    await asleep(h);
    const states = await Promise.all(Array.from({ length: 100 }, () => wake(h.deps, HOST)));
    expect(states.every((state) => state.kind === 'waking')).toBe(true);
    expect(states.filter((state) => state.kind === 'waking' && state.woke)).toHaveLength(1);
    expect(h.bus.ids).toEqual([ID]);
    await h.drain();
    expect(h.cloud.calls.filter((call) => call === 'scaleService')).toHaveLength(2);
  });

  it('serves the app again after waking, and records how long the wake took', async () => {
    const h = harness();
    await asleep(h);
    await wake(h.deps, HOST);
    await h.drain();
    h.clock.advance(42_000);
    h.cloud.startTasks();
    await h.reconcile(ID);
    const env = await h.store.get(ID);
    expect(env?.observed.phase).toBe('ready');
    expect(h.cloud.rules.has(HOST)).toBe(true);
    expect(env?.wakes[0]).toEqual({ startedAt: expect.any(String), readyAt: expect.any(String) });
    expect(await wake(h.deps, HOST)).toMatchObject({ kind: 'ready' });
  });

  it('estimates from this environment’s past wakes', async () => {
    const h = harness();
    await asleep(h);
    await wake(h.deps, HOST);
    await h.drain();
    h.clock.advance(42_000);
    h.cloud.startTasks();
    await h.reconcile(ID);
    h.clock.advance(31 * 60_000);
    await sweep(h.deps);
    await h.drain();
    expect(await wake(h.deps, HOST)).toMatchObject({ kind: 'waking', estimateSeconds: 42 });
  });

  const repairs = (h: ReturnType<typeof harness>) =>
    h.bus.requests.filter((r) => r.reason === 'request reached the wake path while ready');

  it('asks once for the rule of a ready environment under a burst of 100 requests', async () => {
    const h = harness();
    await ready(h);

    const states = await Promise.all(Array.from({ length: 100 }, () => wake(h.deps, HOST)));

    expect(states.every((state) => state.kind === 'ready')).toBe(true);
    expect(repairs(h)).toEqual([{ ids: [ID], reason: 'request reached the wake path while ready' }]);
  });

  it('asks for the rule of a ready environment again only once the interval has passed', async () => {
    const h = harness();
    await ready(h);
    await wake(h.deps, HOST);

    h.clock.advance((RULE_REPAIR_INTERVAL_SECONDS - 1) * 1000);
    await wake(h.deps, HOST);
    expect(repairs(h)).toHaveLength(1);

    h.clock.advance(1000);
    await wake(h.deps, HOST);
    expect(repairs(h)).toHaveLength(2);
  });

  it('answers gone for a closed pull request', async () => {
    const h = harness();
    await ready(h);
    await event(h, 'closed', { open: false, updatedAt: '2026-11-02T10:00:00Z' });
    await h.drain();
    expect(await wake(h.deps, HOST)).toMatchObject({ kind: 'gone' });
  });
});

describe('capacity', () => {
  const at = (number: number) => environmentId('acme/web', number);

  /** `#number` opened, reconciled and serving. */
  async function serving(h: ReturnType<typeof harness>, number: number, branch: string) {
    await event(h, 'opened', { branch }, number);
    await h.drain();
    h.cloud.startTasks();
    await h.reconcile(at(number));
  }

  /** #42 serving, then put to sleep on its own (nothing else is). */
  async function onlyFortyTwoAsleep(h: ReturnType<typeof harness>) {
    await serving(h, 42, 'fix-login');
    const env = await h.store.get(ID);
    if (!env) throw new Error('no environment');
    await h.store.save({ ...env, desired: { ...env.desired, phase: 'sleeping' } });
    await h.reconcile(ID);
    expect((await h.store.get(ID))?.observed.phase).toBe('sleeping');
    h.bus.requests.length = 0;
  }

  /** A pull request event for #42 and the reconciles it asks for, with room for two awake previews. */
  const atCapacity = async (
    h: ReturnType<typeof harness>,
    action: string,
    overrides: Partial<PullRequestFacts>,
  ) => {
    h.deps.capacity = 2;
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action, facts: facts(overrides) });
    await h.drain();
  };

  it('opening a pull request at capacity puts the least recently used awake environment to sleep', async () => {
    const h = harness();
    await serving(h, 41, 'older');
    h.clock.advance(60_000);
    await serving(h, 43, 'newer');

    await atCapacity(h, 'opened', {});

    expect((await h.store.get(at(41)))?.desired).toMatchObject({
      phase: 'sleeping',
      reason: `made room for ${HOST}`,
    });
    expect((await h.store.get(at(43)))?.desired.phase).toBe('running');
  });

  it('a push that wakes a sleeping environment at capacity makes room the same way', async () => {
    const h = harness();
    await serving(h, 41, 'older');
    h.clock.advance(60_000);
    await serving(h, 43, 'newer');
    await onlyFortyTwoAsleep(h);

    await atCapacity(h, 'synchronize', { headSha: SHA_B, updatedAt: '2026-11-02T09:05:00Z' });

    expect((await h.store.get(at(41)))?.desired.phase).toBe('sleeping');
    expect((await h.store.get(at(43)))?.desired.phase).toBe('running');
  });

  it('whatever made an environment want to run again (a command, a retry, a build), its reconcile makes room', async () => {
    const h = harness();
    await serving(h, 41, 'older');
    h.clock.advance(60_000);
    await serving(h, 43, 'newer');
    await onlyFortyTwoAsleep(h);
    const asleep = await h.store.get(ID);
    if (!asleep) throw new Error('no environment');
    await h.store.save({ ...asleep, desired: { ...asleep.desired, phase: 'running' } });
    h.deps.capacity = 2;

    await h.reconcile(ID);

    expect((await h.store.get(at(41)))?.desired).toMatchObject({
      phase: 'sleeping',
      reason: `made room for ${HOST}`,
    });
    expect((await h.store.get(at(43)))?.desired.phase).toBe('running');
    expect(h.bus.ids).toEqual([at(41)]);
  });

  it('a push to an environment already awake at capacity puts nobody to sleep', async () => {
    const h = harness();
    await serving(h, 41, 'older');
    await serving(h, 42, 'fix-login');

    await atCapacity(h, 'synchronize', { headSha: SHA_B, updatedAt: '2026-11-02T09:05:00Z' });

    expect((await h.store.get(at(41)))?.desired.phase).toBe('running');
  });

  // #43 wants to run but holds nothing: reconcile skipped it, failed it, or holds it for an image.
  it.each<[string, (h: ReturnType<typeof harness>) => Promise<void>]>([
    ['skipped by policy', (h) => event(h, 'opened', { branch: 'docs-no-infra' }, 43).then(() => h.drain())],
    [
      'whose commit failed',
      async (h) => {
        h.cloud.failIn(2, 'before', new UserError('image ghcr.io/acme/web:bbbb not found'));
        await event(h, 'opened', { branch: 'broken' }, 43);
        await h.drain();
      },
    ],
    [
      'waiting for its first image',
      async (h) => {
        h.source.setConfig('acme/web', `${WEB_CONFIG}workflow: build\n`, SHA_B);
        await event(h, 'opened', { branch: 'unbuilt', headSha: SHA_B }, 43);
        await h.drain();
      },
    ],
  ])('does not count an environment %s against the capacity when waking another', async (_, holdNothing) => {
    const h = harness();
    await serving(h, 41, 'older');
    h.clock.advance(60_000);
    await holdNothing(h);
    h.clock.advance(60_000);
    await onlyFortyTwoAsleep(h);

    h.deps.capacity = 2;

    const state = await wake(h.deps, HOST);
    await h.drain();

    expect(state).toMatchObject({ kind: 'waking', woke: true });
    expect((await h.store.get(at(41)))?.desired.phase).toBe('running');
    expect((await h.store.get(at(43)))?.desired.phase).toBe('running');
  });
});
