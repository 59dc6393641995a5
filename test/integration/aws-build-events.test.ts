import { BUILD_VARIABLES, environmentTagValue } from '@matinee/aws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jsonLogger } from '../../functions/lib/log.ts';
import { taskStateChanged } from '../../functions/task-events.ts';
import { awsDeployment, ID, pullRequest, SHA_1, serveRepo } from '../support/aws-deployment.ts';
import { localTable } from '../support/dynamo.ts';
import { fakeAws } from '../support/fake-aws.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { eventBridgeEvent } from '../support/lambda-events.ts';

/** CodeBuild "Build State Change" events as the build rule delivers them to the task-events function. */
const PROJECT = 'matinee-test-build';
let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
});
afterEach(() => github.stop());

function buildEvent(project: string, environment: string | undefined, status = 'SUCCEEDED') {
  const variables =
    environment === undefined ? [] : [{ name: BUILD_VARIABLES.environment, value: environment }];
  return eventBridgeEvent('aws.codebuild', 'CodeBuild Build State Change', {
    'build-status': status,
    'project-name': project,
    'build-id': `arn:aws:codebuild:us-east-1:123456789012:build/${project}:0a1b`,
    'additional-information': { environment: { 'environment-variables': variables } },
  });
}

/** The deployment, with a build project configured and the bus's reconcile requests recorded instead of sent. */
async function deployment() {
  const aws = fakeAws();
  const { platform: base, webhook, step } = awsDeployment(aws, github, await localTable());
  await step('open', () => webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')));
  const stage = { ...base.config.stage, build: { ...base.config.stage.build, project: PROJECT } };
  const requests: unknown[][] = [];
  const bus = Object.create(base.bus) as typeof base.bus;
  bus.requestReconcile = async (...args: Parameters<typeof base.bus.requestReconcile>) => {
    requests.push(args);
  };
  const platform = { ...base, bus, config: { ...base.config, stage } } as typeof base;
  return { platform, requests };
}

describe('a CodeBuild build state change', () => {
  it("of this stage's project, for a known environment, requests that environment's reconcile", async () => {
    const { platform, requests } = await deployment();
    const before = await platform.store.get(ID);
    const outcome = await taskStateChanged(platform, buildEvent(PROJECT, environmentTagValue(ID), 'FAILED'));
    expect(outcome).toBe('reconcile requested');
    expect(requests).toEqual([[[ID], 'build failed']]);
    expect(await platform.store.get(ID)).toEqual(before);
  });

  it('of another project, an unknown environment, or none, changes nothing and does not throw', async () => {
    const { platform, requests } = await deployment();
    const before = await platform.store.get(ID);
    for (const event of [
      buildEvent('someone-elses-project', environmentTagValue(ID)),
      buildEvent(PROJECT, environmentTagValue(`${ID.replace(/#\d+$/, '')}#999`)),
      buildEvent(PROJECT, 'not an environment'),
      buildEvent(PROJECT, undefined),
    ])
      expect(await taskStateChanged(platform, event)).toBe('ignored');
    expect(requests).toEqual([]);
    expect(await platform.store.get(ID)).toEqual(before);
  });

  it('malformed or foreign, is answered ignored (no retry) with a log line that echoes none of its values', async () => {
    const { platform, requests } = await deployment();
    const lines: string[] = [];
    const logged = { ...platform, log: jsonLogger({}, (line) => lines.push(line)) } as typeof platform;
    const secret = 'ghs_0123456789abcdefghijABCDEFGHIJ012345';
    const events: unknown[] = [
      // No build status, and a variable whose value is a credential.
      eventBridgeEvent('aws.codebuild', 'CodeBuild Build State Change', {
        'project-name': PROJECT,
        'build-id': secret,
        'additional-information': {
          environment: { 'environment-variables': [{ name: 'GITHUB_TOKEN', value: secret }] },
        },
      }),
      // Variables of the wrong shape.
      eventBridgeEvent('aws.codebuild', 'CodeBuild Build State Change', {
        'build-status': 'SUCCEEDED',
        'project-name': PROJECT,
        'build-id': 'b',
        'additional-information': { environment: { 'environment-variables': secret } },
      }),
      // A kind of event this function does not read.
      eventBridgeEvent('aws.codebuild', `CodeBuild Phase Change ${secret}`, { 'project-name': PROJECT }),
      null,
      secret,
      [secret],
    ];
    for (const event of events) expect(await taskStateChanged(logged, event)).toBe('ignored');
    expect(requests).toEqual([]);
    expect(lines).toHaveLength(events.length);
    for (const line of lines) {
      expect(line).not.toContain(secret.slice(4, 20));
      expect(line).not.toMatch(/\n/);
      expect(JSON.parse(line)).toMatchObject({
        level: 'warn',
        message: 'event ignored: not one this function reads',
      });
    }
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      detailType: 'CodeBuild Build State Change',
      source: 'aws.codebuild',
      problems: ['detail.build-status: invalid_type'],
    });
    expect(JSON.parse(lines[1] ?? '{}').problems).toEqual([
      'detail.additional-information.environment.environment-variables: invalid_type',
    ]);
  });

  it('still fails, for EventBridge to retry, when reading the environment or asking its reconcile fails', async () => {
    const { platform } = await deployment();
    const event = buildEvent(PROJECT, environmentTagValue(ID));
    const store = Object.create(platform.store) as typeof platform.store;
    store.get = async () => {
      throw new Error('ProvisionedThroughputExceededException');
    };
    await expect(taskStateChanged({ ...platform, store }, event)).rejects.toThrow(/ProvisionedThroughput/);

    const bus = Object.create(platform.bus) as typeof platform.bus;
    bus.requestReconcile = async () => {
      throw new Error('EventBridge PutEvents failed');
    };
    await expect(taskStateChanged({ ...platform, bus }, event)).rejects.toThrow(/PutEvents failed/);
  });
});
