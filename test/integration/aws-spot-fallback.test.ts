import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweepIdle } from '../../functions/sweep.ts';
import { taskStateChanged } from '../../functions/task-events.ts';
import { awsDeployment, ID, pullRequest, SHA_1, serveRepo } from '../support/aws-deployment.ts';
import { localTable } from '../support/dynamo.ts';
import { type FakeAws, fakeAws } from '../support/fake-aws.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { eventBridgeEvent } from '../support/lambda-events.ts';

/** Fargate Spot without room for a preview: on-demand until it sleeps, then Spot again. */
let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
});
afterEach(() => github.stop());

const provider = (aws: FakeAws) =>
  [...aws.services.values()][0]?.settings.capacityProviderStrategy?.map((s) => s.capacityProvider);

function placementFailed(aws: FakeAws) {
  const service = [...aws.services.values()][0];
  return eventBridgeEvent(
    'aws.ecs',
    'ECS Service Action',
    {
      eventType: 'ERROR',
      eventName: 'SERVICE_TASK_PLACEMENT_FAILURE',
      clusterArn: aws.config.cluster,
      capacityProviderArns: ['arn:aws:ecs:eu-west-1:123456789012:capacity-provider/FARGATE_SPOT'],
      reason: 'RESOURCE:FARGATE',
      createdAt: new Date().toISOString(),
    },
    [service?.arn ?? ''],
  );
}

describe('a preview Fargate Spot has no room for', () => {
  it('moves to on-demand Fargate, serves there, and tries Spot again after it sleeps', async () => {
    const aws = fakeAws();
    const { platform, clock, webhook, browse, step, settle } = awsDeployment(aws, github, await localTable());
    await step('open', () => webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')));
    expect(provider(aws)).toEqual(['FARGATE_SPOT']);

    expect(await taskStateChanged(platform, placementFailed(aws))).toBe('reconcile');
    await settle();

    expect(provider(aws)).toEqual(['FARGATE']);
    const env = await platform.store.get(ID);
    expect(env?.observed.phase).toBe('ready');
    expect(env?.spotUnavailableAt).toBeDefined();
    // A second failure report changes nothing more.
    expect(await taskStateChanged(platform, placementFailed(aws))).toBe('ignored');

    clock.advance(2 * 3600_000);
    await step('sleep', () => sweepIdle(platform));
    expect((await platform.store.get(ID))?.spotUnavailableAt).toBeUndefined();
    await step('wake', () => browse());
    expect(provider(aws)).toEqual(['FARGATE_SPOT']);
    expect((await platform.store.get(ID))?.observed.phase).toBe('ready');
  });
});
