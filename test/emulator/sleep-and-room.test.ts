import { environmentId, resourceNames } from '@matinee/core';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { sweepIdle } from '../../functions/sweep.ts';
import { HOST, ID, pullRequest, REPO, SHA_1, SHA_2, serveRepo } from '../support/aws-deployment.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { Holdings } from './support/holdings.ts';
import { type MotoDeployment, motoDeployment } from './support/moto-deployment.ts';

/** Capacity, pushes to a sleeping preview and a second reconcile, judged by what moto holds. */
let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
});
afterEach(() => github.stop());

const open = () => pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z');

/** Everything of the stage moto holds, for comparing before and after. */
async function snapshot(d: MotoDeployment, held: Holdings) {
  const family = resourceNames(d.moto.stage, ID, 'fix-login-pr42').family;
  return {
    rules: await held.rules(),
    targetGroups: await held.targetGroups(),
    services: (await held.services()).map((s) => ({
      arn: s.serviceArn,
      status: s.status,
      desiredCount: s.desiredCount,
      taskDefinition: s.taskDefinition,
      loadBalancers: s.loadBalancers,
      tags: s.tags,
    })),
    taskDefinitions: (await held.taskDefinitions(family)).map((td) => [td.taskDefinitionArn, td.status]),
    tagged: (await held.tagged()).sort(),
  };
}

const WRITES = /:(Create|Update|Delete|Deregister|Register|Modify|Set|Add|Remove|Tag|Untag)/;

describe.skipIf(!inject('motoEndpoint'))('sleep, capacity and repeats on moto', () => {
  it('at maxAwake puts the least recently used preview to sleep for a new one: its rule gone, its service at 0', async () => {
    const d = await motoDeployment(github, { maxAwake: 1 });
    const held = new Holdings(d.moto, d.ecs);
    const first = resourceNames(d.moto.stage, ID, 'fix-login-pr42');
    await d.step('open 42', () => d.webhook('pull_request', open()));
    expect((await held.hostRules()).map((rule) => rule.hosts)).toEqual([[HOST]]);

    d.clock.advance(60_000);
    const other = pullRequest('opened', SHA_1, '2026-11-22T10:01:00Z');
    other.number = 43;
    Object.assign(other.pull_request, {
      number: 43,
      head: { ...other.pull_request.head, ref: 'dark-mode' },
    });
    github.pulls.push({ number: 43, head: { sha: SHA_1 } });
    await d.step('open 43', () => d.webhook('pull_request', other));

    const id43 = environmentId(REPO, 43);
    const host43 = 'dark-mode-pr43.preview.example.com';
    expect((await d.platform.store.get(id43))?.observed.phase).toBe('ready');
    const slept = await d.platform.store.get(ID);
    expect(slept?.observed.phase).toBe('sleeping');
    expect(slept?.desired.reason).toBe(`made room for ${host43}`);
    // One host rule, the new preview's; the old one's group is kept, detached, its service at 0.
    const groups = await held.targetGroups();
    const rules = await held.hostRules();
    expect(rules.map((rule) => rule.hosts)).toEqual([[host43]]);
    expect(rules[0]?.forwardsTo).not.toBe(
      groups.find((g) => g.TargetGroupName === first.targetGroup)?.TargetGroupArn,
    );
    expect(groups.map((g) => g.TargetGroupName).sort()).toEqual(
      [first.targetGroup, resourceNames(d.moto.stage, id43, 'dark-mode-pr43').targetGroup].sort(),
    );
    const counts = Object.fromEntries(
      (await held.activeServices()).map((s) => [s.serviceName, s.desiredCount]),
    );
    expect(counts).toEqual({
      [first.service]: 0,
      [resourceNames(d.moto.stage, id43, 'dark-mode-pr43').service]: 1,
    });
  });

  it('a push to a sleeping preview wakes it on the new commit: its rule back, the service on a new revision', async () => {
    const d = await motoDeployment(github);
    const held = new Holdings(d.moto, d.ecs);
    const names = resourceNames(d.moto.stage, ID, 'fix-login-pr42');
    await d.step('open', () => d.webhook('pull_request', open()));
    const rule = (await held.hostRules())[0];
    d.clock.advance(2 * 3600_000);
    await d.step('sleep', () => d.as('sweep', () => sweepIdle(d.platform)));
    expect((await d.platform.store.get(ID))?.observed.phase).toBe('sleeping');
    expect(await held.hostRules()).toEqual([]);

    github.pulls[0] = { number: 42, head: { sha: SHA_2 } };
    await d.step('push', () =>
      d.webhook('pull_request', pullRequest('synchronize', SHA_2, '2026-11-22T12:00:00Z')),
    );

    const env = await d.platform.store.get(ID);
    expect(env?.desired).toMatchObject({ phase: 'running', sha: SHA_2 });
    expect(env?.observed).toMatchObject({ phase: 'ready', sha: SHA_2 });
    const [group] = await held.targetGroups();
    expect(await held.hostRules()).toEqual([
      expect.objectContaining({ hosts: [HOST], priority: rule?.priority, forwardsTo: group?.TargetGroupArn }),
    ]);
    const revisions = await held.taskDefinitions(names.family);
    expect(revisions.map((td) => [td.revision, td.status])).toEqual([
      [1, 'INACTIVE'],
      [2, 'ACTIVE'],
    ]);
    expect(revisions[1]?.containerDefinitions?.[0]?.image).toBe(`ghcr.io/acme/web:${SHA_2}`);
    const [service] = await held.activeServices();
    expect(service).toMatchObject({ desiredCount: 1, taskDefinition: revisions[1]?.taskDefinitionArn });
    expect(d.ecs.running(service?.serviceArn ?? '').map((task) => task.taskDefinitionArn)).toEqual([
      revisions[1]?.taskDefinitionArn,
    ]);
  });

  it('a second reconcile of a ready preview writes nothing and leaves moto holding the same', async () => {
    const d = await motoDeployment(github);
    const held = new Holdings(d.moto, d.ecs);
    await d.step('open', () => d.webhook('pull_request', open()));
    const before = await snapshot(d, held);
    const record = await d.platform.store.get(ID);

    const calls = await d.step('again', () =>
      d.as('resync', () => d.platform.bus.requestReconcile([ID], 'again')),
    );

    expect(calls.filter((call) => WRITES.test(call) && !call.startsWith('EventBridge:'))).toEqual([]);
    expect(calls.length).toBeGreaterThan(1);
    expect(await snapshot(d, held)).toEqual(before);
    expect((await d.platform.store.get(ID))?.observed).toMatchObject({
      phase: 'ready',
      resources: record?.observed.resources,
    });
  });
});
