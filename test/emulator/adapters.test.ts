import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  CloudWatchActivity,
  EventBridgeBus,
  environmentTagValue,
  MATINEE_EVENT_SOURCE,
  RECONCILE_REQUESTED,
  TaggingInventory,
} from '@matinee/aws';
import { environmentId, environmentRef, TAG_ENVIRONMENT, TAG_HOST, TAG_STAGE } from '@matinee/core';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { HOST, ID, pullRequest, SHA_1, serveRepo } from '../support/aws-deployment.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { motoDeployment } from './support/moto-deployment.ts';
import { type MotoStage, motoStage } from './support/moto-stage.ts';

/** The bus, activity and inventory adapters against moto's EventBridge, CloudWatch and tagging API. */
let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
});
afterEach(() => github.stop());

async function targetGroup(moto: MotoStage, name: string, tags: Record<string, string> = {}) {
  const { TargetGroups } = await moto.admin.elb.send(
    new CreateTargetGroupCommand({
      Name: `${moto.stage}-${name}`,
      TargetType: 'ip',
      Protocol: 'HTTP',
      Port: 3000,
      VpcId: moto.settings.network.vpcId,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  return TargetGroups?.[0]?.TargetGroupArn ?? '';
}

function ref(moto: MotoStage, pr: number, targetGroupArn?: string) {
  const slug = `branch-pr${pr}`;
  return environmentRef(
    { stage: moto.stage, domain: moto.settings.domain },
    {
      id: environmentId('acme/web', pr),
      slug,
      host: `${slug}.${moto.settings.domain}`,
      observed: { resources: targetGroupArn ? { targetGroupArn } : {} },
    },
  );
}

describe.skipIf(!inject('motoEndpoint'))('the adapters on moto', () => {
  it("puts one reconcile-requested event per environment on the stage's bus, routed by the stacks' rule to this stage only", async () => {
    const moto = await motoStage(inject('motoEndpoint'));
    const other = await motoStage(inject('motoEndpoint'));
    const bus = new EventBridgeBus({ eventbridge: moto.admin.eventbridge, busName: moto.busName });
    const ids = [environmentId('acme/web', 1), environmentId('acme/web', 2)] as const;

    await bus.requestReconcile([ids[0], ids[1], ids[0]], 'pushed');

    const delivered = (await moto.reconcileQueue.drain()) as {
      source: string;
      'detail-type': string;
      detail: unknown;
    }[];
    expect(delivered.map((event) => [event.source, event['detail-type']])).toEqual([
      [MATINEE_EVENT_SOURCE, RECONCILE_REQUESTED],
      [MATINEE_EVENT_SOURCE, RECONCILE_REQUESTED],
    ]);
    expect(delivered.map((event) => event.detail)).toEqual(
      expect.arrayContaining(ids.map((id) => ({ id, reason: 'pushed' }))),
    );
    // Nothing reached the task-events function, nor the other stage's functions.
    expect(await moto.taskEventsQueue.drain()).toEqual([]);
    expect(await other.reconcileQueue.drain()).toEqual([]);
  });

  it("sums each environment's RequestCount held by CloudWatch over the window, and when it last had any", async () => {
    const moto = await motoStage(inject('motoEndpoint'));
    const busy = await targetGroup(moto, 'busy');
    const idle = await targetGroup(moto, 'idle');
    const minute = 60_000;
    const until = new Date(Math.floor(Date.now() / minute) * minute);
    const at = (minutesAgo: number) => new Date(until.getTime() - minutesAgo * minute);
    const point = (group: string, loadBalancer: string, minutesAgo: number, value: number) => ({
      MetricName: 'RequestCount',
      Dimensions: [
        { Name: 'TargetGroup', Value: /targetgroup\/.+$/.exec(group)?.[0] ?? '' },
        { Name: 'LoadBalancer', Value: loadBalancer },
      ],
      Timestamp: at(minutesAgo),
      Value: value,
      Unit: 'Count' as const,
    });
    const ours = moto.settings.loadBalancer.fullName;
    await moto.admin.cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'AWS/ApplicationELB',
        MetricData: [
          point(busy, ours, 20, 5),
          point(busy, ours, 10, 3),
          // Before the window, and another load balancer's: neither counts.
          point(busy, ours, 90, 100),
          point(idle, 'app/someone-else/0123456789abcdef', 10, 7),
        ],
      }),
    );
    const activity = new CloudWatchActivity({
      cloudwatch: moto.admin.cloudwatch,
      loadBalancerFullName: ours,
    });

    const seen = await activity.requestActivity(
      [ref(moto, 1, busy), ref(moto, 2, idle), ref(moto, 3)],
      at(30),
      until,
    );

    expect(seen.get(environmentId('acme/web', 1))).toEqual({ count: 8, lastAt: at(9) });
    expect(seen.get(environmentId('acme/web', 2))).toEqual({ count: 0 });
    expect(seen.get(environmentId('acme/web', 3))).toEqual({ count: 0 });
  });

  it("lists what this stage's environments own by their tags, never another stage's", async () => {
    const d = await motoDeployment(github);
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );
    // Another stage's environment of the same pull request, tagged the same but for the stage.
    const other = await motoStage(inject('motoEndpoint'));
    const foreign = await targetGroup(other, 'pr42', {
      [TAG_STAGE]: other.stage,
      [TAG_ENVIRONMENT]: environmentTagValue(ID),
      [TAG_HOST]: HOST,
    });
    // Of this stage but without the environment's tags: nobody can tell whose it is.
    await targetGroup(d.moto, 'untagged', { [TAG_STAGE]: d.moto.stage });
    const env = await d.platform.store.get(ID);
    const resources = env?.observed.resources;

    const owned = await new TaggingInventory({
      tagging: d.moto.admin.tagging,
      stage: d.moto.stage,
    }).listOwned();

    // moto's tagging API has no listener rules (see the README): the service, its revision and its group.
    expect(owned.sort((a, b) => a.kind.localeCompare(b.kind))).toEqual([
      { arn: resources?.serviceArn, kind: 'service', environmentId: ID, host: HOST },
      { arn: resources?.targetGroupArn, kind: 'target-group', environmentId: ID, host: HOST },
      { arn: resources?.taskDefinitionArn, kind: 'task-definition', environmentId: ID, host: HOST },
    ]);
    const theirs = await new TaggingInventory({
      tagging: other.admin.tagging,
      stage: other.stage,
    }).listOwned();
    expect(theirs).toEqual([{ arn: foreign, kind: 'target-group', environmentId: ID, host: HOST }]);
  });
});
