import { environmentTagValue } from '@matinee/aws';
import { TAG_ENVIRONMENT } from '@matinee/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsDeployment, ID, pullRequest, SHA_1, serveRepo } from '../support/aws-deployment.ts';
import { localTable } from '../support/dynamo.ts';
import { type FakeAws, fakeAws } from '../support/fake-aws.ts';
import { FakeGithub } from '../support/fake-github.ts';

/**
 * A reconcile can die after any single AWS call took effect (a Lambda timeout, a killed container) and
 * the next run, on the event's retry, must still converge and leak nothing. Each case crashes one call
 * of a whole open → ready → closed life, through every handler, on DynamoDB Local.
 */
let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
});
afterEach(() => github.stop());

const CLOUD_CALLS = /^(ECS|ELB):/;

async function life(aws: FakeAws, on = github) {
  const { platform, webhook, step } = awsDeployment(aws, on, await localTable());
  await step('open', () => webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')));
  const opened = (await platform.store.get(ID))?.observed.phase;
  await step('close', () =>
    webhook('pull_request', pullRequest('closed', SHA_1, '2026-11-22T13:00:00Z', { state: 'closed' })),
  );
  return { opened, closed: (await platform.store.get(ID))?.observed.phase };
}

function leftovers(aws: FakeAws) {
  return {
    tagged: aws.tagged(TAG_ENVIRONMENT, environmentTagValue(ID)),
    targetGroups: aws.targetGroups.size,
    services: [...aws.services.values()].filter((service) => service.status === 'ACTIVE').length,
    taskDefinitions: aws.taskDefinitions.filter((td) => td.status === 'ACTIVE').length,
    rules: aws.rules.size,
  };
}

const NOTHING = { tagged: [], targetGroups: 0, services: 0, taskDefinitions: 0, rules: 0 };

describe('a reconcile that dies after an AWS call took effect', async () => {
  // How many cloud calls a life makes, from one run without a crash.
  const clean = fakeAws();
  const stand = await new FakeGithub().start();
  serveRepo(stand);
  await life(clean, stand);
  await stand.stop();
  const count = clean.calls().filter((call) => CLOUD_CALLS.test(call)).length;
  const cases = Array.from({ length: count }, (_, i) => i + 1);

  it('crashes each of the life’s cloud calls in turn', () => {
    expect(count).toBeGreaterThan(10);
  });

  it.each(cases)('is finished by the next run when it dies after cloud call %i', async (n) => {
    const aws = fakeAws();
    aws.crashAfter(CLOUD_CALLS, n);

    const phases = await life(aws);

    expect(aws.crashPending).toBe(false);
    expect(phases).toEqual({ opened: 'ready', closed: 'deleted' });
    expect(leftovers(aws)).toEqual(NOTHING);
  });
});
