import { retryFailed } from '@matinee/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { taskStateChanged } from '../../functions/task-events.ts';
import { awsDeployment, ID, pullRequest, SHA_1, serveRepo } from '../support/aws-deployment.ts';
import { localTable } from '../support/dynamo.ts';
import { type FakeAws, fakeAws } from '../support/fake-aws.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { eventBridgeEvent } from '../support/lambda-events.ts';

/** ECS task events as EventBridge delivers them: at least once, in no particular order. */
let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
});
afterEach(() => github.stop());

/** An "ECS Task State Change" for a task of the environment's service that exited on its own. */
function stopped(aws: FakeAws, taskArn: string, createdAt = new Date().toISOString()) {
  const service = [...aws.services.values()][0];
  return eventBridgeEvent(
    'aws.ecs',
    'ECS Task State Change',
    {
      clusterArn: aws.config.cluster,
      group: `service:${service?.name}`,
      taskArn,
      taskDefinitionArn: service?.deployments[0]?.taskDefinition,
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      launchType: 'FARGATE',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      createdAt,
      version: 5,
    },
    [taskArn],
  );
}

describe('a stopped task reported by EventBridge', () => {
  it('counts as one crash however often its event is delivered', async () => {
    const aws = fakeAws();
    const { platform, webhook, step } = awsDeployment(aws, github, await localTable());
    await step('open', () => webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')));
    const event = stopped(aws, 'arn:aws:ecs:us-east-1:123456789012:task/matinee-test/0a1b2c3d');

    const outcomes = [];
    for (let delivery = 0; delivery < 3; delivery++) outcomes.push(await taskStateChanged(platform, event));

    expect(outcomes).toEqual(['crash', 'ignored', 'ignored']);
    const env = await platform.store.get(ID);
    expect(env?.observed.crashes?.count).toBe(1);
    expect(env?.observed.phase).toBe('ready');
  });
});

describe('a commit whose tasks keep stopping', () => {
  it('fails, and a retry rolls out a new deployment instead of scaling the failed one up again', async () => {
    const aws = fakeAws();
    const { platform, webhook, step, settle } = awsDeployment(aws, github, await localTable());
    await step('open', () => webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')));
    const service = () => [...aws.services.values()][0];
    const failedDeployment = service()?.deployments[0];
    for (const task of ['a', 'b', 'c'])
      await taskStateChanged(
        platform,
        stopped(aws, `arn:aws:ecs:us-east-1:123456789012:task/matinee-test/${task}`),
      );
    await settle();
    expect((await platform.store.get(ID))?.observed.phase).toBe('failed');
    expect(service()?.desiredCount).toBe(0);

    expect(await retryFailed(platform, ID)).toBe(true);
    await settle();

    const primary = service()?.deployments[0];
    expect(primary?.id).not.toBe(failedDeployment?.id);
    expect(primary?.taskDefinition).not.toBe(failedDeployment?.taskDefinition);
    expect(service()?.desiredCount).toBe(1);
    expect((await platform.store.get(ID))?.observed.phase).toBe('ready');
  });
});
