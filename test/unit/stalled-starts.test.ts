import {
  environmentId,
  onPullRequest,
  onServicePlacementFailure,
  onServiceSteady,
  sweep,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { WEB_CONFIG } from '../support/configs.ts';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

const ID = environmentId('acme/web', 42);
const SERVICE = 'matinee-test-fix-login-pr42';

/** Opened and reconciled: the service is asked for a task, which has not passed its checks yet. */
async function starting() {
  const h = harness();
  await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await h.drain();
  expect((await h.store.get(ID))?.observed.phase).toBe('starting');
  return h;
}

describe("ECS's steady state of a service", () => {
  it('asks for a reconcile of an environment still starting: its targets now pass the checks', async () => {
    const h = await starting();

    expect(await onServiceSteady(h.deps, SERVICE)).toBe('reconcile');
    expect(h.bus.ids).toEqual([ID]);

    h.cloud.startTasks();
    await h.drain();
    expect((await h.store.get(ID))?.observed.phase).toBe('ready');
  });

  it('does nothing for a ready environment, which ECS reports steady again and again', async () => {
    const h = await starting();
    h.cloud.startTasks();
    await h.reconcile(ID);
    h.bus.requests.length = 0;

    expect(await onServiceSteady(h.deps, SERVICE)).toBe('ignored');
    expect(h.bus.ids).toEqual([]);
  });

  it("ignores services that are not this stage's environments", async () => {
    const h = await starting();
    h.bus.requests.length = 0;

    expect(await onServiceSteady(h.deps, 'billing-api')).toBe('ignored');
    expect(await onServiceSteady(h.deps, 'matinee-prod-fix-login-pr42')).toBe('ignored');
    expect(h.bus.ids).toEqual([]);
  });
});

describe('the sweep as a safety net for starts', () => {
  it('asks again for a reconcile of an environment starting for more than three minutes', async () => {
    const h = await starting();
    h.bus.requests.length = 0;
    h.clock.advance(4 * 60_000);

    const report = await sweep(h.deps);

    expect(report.nudged).toEqual([ID]);
    expect(h.bus.ids).toEqual([ID]);
  });

  it('leaves a start that is only a minute old to its events', async () => {
    const h = await starting();
    h.bus.requests.length = 0;
    h.clock.advance(60_000);

    expect((await sweep(h.deps)).nudged).toEqual([]);
    expect(h.bus.ids).toEqual([]);
  });
});

describe('a task ECS could not place', () => {
  it('moves a Spot environment to on-demand with a new revision', async () => {
    const h = await starting();
    h.bus.requests.length = 0;

    expect(await onServicePlacementFailure(h.deps, SERVICE, 'RESOURCE:FARGATE')).toBe('reconcile');
    await h.drain();

    const revisions = [...h.cloud.taskDefinitions.values()][0] ?? [];
    expect(revisions.map((r) => r.spec.spot)).toEqual([true, false]);
  });

  it('fails the commit with the reason when the task cannot be placed for anything but capacity', async () => {
    const h = await starting();
    h.bus.requests.length = 0;

    const outcome = await onServicePlacementFailure(h.deps, SERVICE, 'RESOURCE:ENI');
    await h.drain();

    expect(outcome).toBe('failed');
    const env = await h.store.get(ID);
    expect(env?.spotUnavailableAt).toBeUndefined();
    expect(env?.observed).toMatchObject({
      phase: 'failed',
      failure: { reason: 'ECS could not place a task: RESOURCE:ENI' },
    });
    expect([...h.cloud.taskDefinitions.values()][0]?.map((r) => r.spec.spot)).toEqual([true]);
    expect([...h.cloud.services.values()].map((s) => s.desiredCount)).toEqual([0]);
  });

  it('leaves an environment that runs on-demand already to ECS', async () => {
    const h = harness();
    h.source.setConfig('acme/web', `${WEB_CONFIG}spot: false\n`);
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();
    expect((await h.store.get(ID))?.observed.phase).toBe('starting');
    h.bus.requests.length = 0;

    expect(await onServicePlacementFailure(h.deps, SERVICE, 'RESOURCE:FARGATE')).toBe('ignored');
    expect(h.bus.ids).toEqual([]);
  });
});
