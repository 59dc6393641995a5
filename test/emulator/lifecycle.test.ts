import { environmentTagValue } from '@matinee/aws';
import { resourceNames, TAG_ENVIRONMENT, TAG_HOST, TAG_STAGE } from '@matinee/core';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { sweepIdle } from '../../functions/sweep.ts';
import { ID, pullRequest, SHA_1, SHA_2, serveRepo } from '../support/aws-deployment.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { Holdings } from './support/holdings.ts';
import { HOST, motoDeployment } from './support/moto-deployment.ts';

/** One environment's whole life through every Lambda handler, on moto (see test/emulator/README.md). */
let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
});
afterEach(() => github.stop());

const print = Boolean(process.env.MATINEE_PRINT_AWS_CALLS);

describe.skipIf(!inject('motoEndpoint'))('an environment on moto, through every Lambda handler', () => {
  it('opens: a task definition, a service and a target group, tagged, and a live host rule last', async () => {
    const d = await motoDeployment(github, { print });
    const held = new Holdings(d.moto, d.ecs);
    const names = resourceNames(d.moto.stage, ID, 'fix-login-pr42');

    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );

    const env = await d.platform.store.get(ID);
    expect(env?.observed.phase).toBe('ready');
    const tags = { [TAG_STAGE]: d.moto.stage, [TAG_ENVIRONMENT]: environmentTagValue(ID), [TAG_HOST]: HOST };
    const [group, ...moreGroups] = await held.targetGroups();
    expect(moreGroups).toEqual([]);
    expect(group).toMatchObject({
      TargetGroupName: names.targetGroup,
      TargetType: 'ip',
      Protocol: 'HTTP',
      Port: 3000,
      HealthCheckPath: '/health',
      tags,
    });
    const rules = await held.hostRules();
    expect(rules).toEqual([
      expect.objectContaining({ hosts: [HOST], fields: ['host-header'], forwardsTo: group?.TargetGroupArn }),
    ]);
    expect(Number(rules[0]?.priority)).toBeGreaterThan(0);
    const [service, ...moreServices] = await held.activeServices();
    expect(moreServices).toEqual([]);
    expect(service).toMatchObject({
      serviceName: names.service,
      desiredCount: 1,
      loadBalancers: [{ targetGroupArn: group?.TargetGroupArn, containerName: 'app', containerPort: 3000 }],
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: d.moto.settings.network.subnets,
          securityGroups: d.moto.settings.network.securityGroups,
          assignPublicIp: 'ENABLED',
        },
      },
      propagateTags: 'SERVICE',
    });
    expect(Object.fromEntries((service?.tags ?? []).map((t) => [t.key, t.value]))).toEqual(tags);
    const revisions = await held.taskDefinitions(names.family);
    expect(revisions.map((td) => [td.revision, td.status])).toEqual([[1, 'ACTIVE']]);
    expect(revisions[0]).toMatchObject({
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      executionRoleArn: d.moto.settings.roles.executionRoleArn,
      taskRoleArn: d.moto.settings.roles.taskRoleArn,
    });
    expect(service?.taskDefinition).toBe(revisions[0]?.taskDefinitionArn);
    expect(env?.observed.resources).toMatchObject({
      serviceArn: service?.serviceArn,
      targetGroupArn: group?.TargetGroupArn,
      taskDefinitionArn: revisions[0]?.taskDefinitionArn,
      ruleArn: expect.stringContaining(':listener-rule/'),
    });
  });

  it('sleeps, wakes, rolls out a push and closes, leaving nothing of the stage behind', async () => {
    const d = await motoDeployment(github, { print });
    const held = new Holdings(d.moto, d.ecs);
    const names = resourceNames(d.moto.stage, ID, 'fix-login-pr42');
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );
    const [group] = await held.targetGroups();
    const openRule = (await held.hostRules())[0];

    d.clock.advance(2 * 3600_000);
    await d.step('sleep', () => d.as('sweep', () => sweepIdle(d.platform)));
    expect((await d.platform.store.get(ID))?.observed.phase).toBe('sleeping');
    // Asleep: no rule (the group is detached, off the ALB's 100), the service at 0, the group kept.
    expect(await held.hostRules()).toEqual([]);
    expect((await held.activeServices()).map((s) => s.desiredCount)).toEqual([0]);
    expect((await held.targetGroups()).map((g) => g.TargetGroupArn)).toEqual([group?.TargetGroupArn]);
    expect(await d.ecs.targetHealth(group?.TargetGroupArn ?? '')).toEqual([]);

    const pages = await Promise.all(Array.from({ length: 20 }, () => d.browse()));
    expect(pages.every((page) => page.statusCode === 200 && page.body.includes('Waking up'))).toBe(true);
    const wake = await d.step('wake', async () => undefined);
    expect(wake.filter((call) => call === 'ECS:UpdateService')).toHaveLength(1);
    expect((await d.platform.store.get(ID))?.observed.phase).toBe('ready');
    // The same host rule again (its priority comes from the host), forwarding to the same group.
    expect(await held.hostRules()).toEqual([
      expect.objectContaining({
        hosts: [HOST],
        fields: ['host-header'],
        priority: openRule?.priority,
        forwardsTo: group?.TargetGroupArn,
      }),
    ]);
    expect((await held.activeServices()).map((s) => s.desiredCount)).toEqual([1]);

    github.pulls[0] = { number: 42, head: { sha: SHA_2 } };
    await d.step('push', () =>
      d.webhook('pull_request', pullRequest('synchronize', SHA_2, '2026-11-22T12:00:00Z')),
    );
    expect((await d.platform.store.get(ID))?.observed).toMatchObject({ phase: 'ready', sha: SHA_2 });
    // The rollout registered the second commit's revision, put the service on it, and retired the first.
    const revisions = await held.taskDefinitions(names.family);
    expect(revisions.map((td) => [td.revision, td.status])).toEqual([
      [1, 'INACTIVE'],
      [2, 'ACTIVE'],
    ]);
    expect(revisions[1]?.containerDefinitions?.[0]?.image).toBe(`ghcr.io/acme/web:${SHA_2}`);
    expect((await held.activeServices())[0]?.taskDefinition).toBe(revisions[1]?.taskDefinitionArn);

    github.pulls.splice(0);
    await d.step('close', () =>
      d.webhook(
        'pull_request',
        pullRequest('closed', SHA_2, '2026-11-22T13:00:00Z', { state: 'closed', merged: true }),
      ),
    );
    expect((await d.platform.store.get(ID))?.observed.phase).toBe('deleted');
    expect(await held.hostRules()).toEqual([]);
    expect(await held.targetGroups()).toEqual([]);
    expect(await held.activeServices()).toEqual([]);
    expect(await held.taskDefinitions(names.family)).toEqual([]);
    // moto keeps a deleted service, INACTIVE and still tagged (AWS forgets it within the hour); nothing else
    // of the stage is left.
    const left = await held.tagged();
    expect(left.filter((arn) => !arn.includes(':service/'))).toEqual([]);
    expect((await held.services()).map((s) => s.status)).toEqual(['INACTIVE']);
  });
});
