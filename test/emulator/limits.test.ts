import { CreateRuleCommand, CreateTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { ElbRouter } from '@matinee/aws';
import { environmentId, environmentRef, resourceNames } from '@matinee/core';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { resyncWithGithub } from '../../functions/resync.ts';
import { ID, pullRequest, SHA_1, serveRepo } from '../support/aws-deployment.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { enforceTargetGroupLimit } from './support/alb-limit.ts';
import { Holdings } from './support/holdings.ts';
import { motoDeployment } from './support/moto-deployment.ts';
import { motoStage } from './support/moto-stage.ts';

let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
});
afterEach(() => github.stop());

describe.skipIf(!inject('motoEndpoint'))('limits and leftovers, on moto', () => {
  it('removes a target group it made when moto refuses the host rule for a host over 128 characters', async () => {
    const moto = await motoStage(inject('motoEndpoint'));
    // A 78-character domain (too long for ACM's wildcard, so not the stage's certificate: only the host matters).
    const domain = `${'x'.repeat(70)}.example`;
    const router = new ElbRouter({
      elb: moto.admin.elb,
      vpcId: moto.settings.network.vpcId,
      listenerArn: moto.settings.loadBalancer.listenerArn,
    });
    // The host the old naming made for a 78-character domain: 132 characters.
    const slug = `${'b'.repeat(48)}-pr42`;
    const ref = environmentRef(
      { stage: moto.stage, domain: moto.settings.domain, scheme: 'https' },
      {
        id: environmentId('acme/web', 42),
        slug,
        host: `${slug}.${domain}`,
      },
    );
    expect(ref.host).toHaveLength(132);

    await expect(router.ensureTargetGroup(ref, { port: 3000, healthPath: '/health' })).rejects.toThrow(
      /host-header.*128/,
    );

    const held = new Holdings(moto, { services: async () => [] } as never);
    expect(await held.targetGroups()).toEqual([]);
    expect(await held.hostRules()).toEqual([]);
  });

  it('fails the environment naming the limit when the ALB already forwards to 100 target groups, and leaves no group behind', async () => {
    const d = await motoDeployment(github);
    enforceTargetGroupLimit(d.clients.elb, d.moto);
    const held = new Holdings(d.moto, d.ecs);
    // 99 groups of something else on the listener, with the wake function's: the ALB is full.
    for (let start = 0; start < 99; start += 11) {
      await Promise.all(
        Array.from({ length: Math.min(11, 99 - start) }, async (_, offset) => {
          const index = start + offset;
          const { TargetGroups } = await d.moto.admin.elb.send(
            new CreateTargetGroupCommand({
              Name: `other-${d.moto.stage}-${index}`.slice(0, 32),
              TargetType: 'ip',
              Protocol: 'HTTP',
              Port: 80,
              VpcId: d.moto.settings.network.vpcId,
            }),
          );
          await d.moto.admin.elb.send(
            new CreateRuleCommand({
              ListenerArn: d.moto.settings.loadBalancer.listenerArn,
              Priority: 40_000 + index,
              Conditions: [
                { Field: 'host-header', HostHeaderConfig: { Values: [`other-${index}.example.org`] } },
              ],
              Actions: [{ Type: 'forward', TargetGroupArn: TargetGroups?.[0]?.TargetGroupArn }],
            }),
          );
        }),
      );
    }

    const calls = await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );

    const env = await d.platform.store.get(ID);
    expect(env?.observed.phase).toBe('failed');
    expect(env?.observed.failure?.reason).toMatch(
      /load balancer already forwards to 100 target groups.*TooManyUniqueTargetGroupsPerLoadBalancer/,
    );
    // Refused once, not retried as if it were throttling.
    expect(calls.filter((call) => call === 'ELB:CreateRule')).toHaveLength(1);
    const names = resourceNames(d.moto.stage, ID, 'fix-login-pr42');
    expect((await held.targetGroups()).map((g) => g.TargetGroupName)).not.toContain(names.targetGroup);
    expect(
      (await held.hostRules()).filter((rule) => rule.hosts.some((h) => h.includes('fix-login'))),
    ).toEqual([]);
  });

  it('resync collects what an environment left tagged once its record is gone', async () => {
    const d = await motoDeployment(github);
    const held = new Holdings(d.moto, d.ecs);
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );
    expect(await held.activeServices()).toHaveLength(1);
    // The record is lost (deleted by hand, a restore from an old backup): its resources belong to nobody.
    const [pk, sk] = ['ENV#acme/web', 'PR#0000000042'];
    await d.table.client.send(new DeleteCommand({ TableName: d.table.tableName, Key: { pk, sk } }));
    expect(await d.platform.store.get(ID)).toBeUndefined();

    const report = await d.as('resync', () => resyncWithGithub(d.platform, {}));

    expect(report.orphans).toEqual([
      expect.objectContaining({ environmentId: ID, host: 'fix-login-pr42.preview.example.com' }),
    ]);
    expect(await held.hostRules()).toEqual([]);
    expect(await held.targetGroups()).toEqual([]);
    expect(await held.activeServices()).toEqual([]);
    expect(await held.taskDefinitions(resourceNames(d.moto.stage, ID, 'fix-login-pr42').family)).toEqual([]);
  });
});
