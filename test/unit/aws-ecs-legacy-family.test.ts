import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { EcsRuntime } from '@matinee/aws';
import { environmentId, environmentRef, type TaskSpec } from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { SHA_A } from '../support/environments.ts';

/**
 * Task definition families were `matinee-<stage>-<slug>` until `_` took the hyphen's place: stage `test`'s
 * `fix-login-pr42` and stage `test-fix`'s `login-pr42` shared `matinee-test-fix-login-pr42`. Live previews
 * still run revisions of it; DeregisterTaskDefinition cannot be held to a stage by IAM, so the runtime
 * touches a legacy revision only when its tags say it is this environment's.
 */
const ACCOUNT = 'arn:aws:ecs:eu-west-1:123456789012';
const CLUSTER = `${ACCOUNT}:cluster/matinee-test`;
const FAMILY = 'matinee-test_fix-login-pr42';
const LEGACY = 'matinee-test-fix-login-pr42';
const TD = (family: string, n: number) => `${ACCOUNT}:task-definition/${family}:${n}`;
const SERVICE_ARN = `${ACCOUNT}:service/matinee-test/${LEGACY}`;

const REF = environmentRef(
  { stage: 'test', domain: 'preview.example.com' },
  {
    id: environmentId('acme/web', 42),
    slug: 'fix-login-pr42',
    host: 'fix-login-pr42.preview.example.com',
    observed: { resources: { serviceArn: SERVICE_ARN } },
  },
);
const tags = (stage: string, environment: string) => [
  { key: 'matinee:stage', value: stage },
  { key: 'matinee:environment', value: environment },
  { key: 'matinee:revision', value: 'old' },
];
/** Ours: stage `test`, environment acme/web#42. */
const MINE = TD(LEGACY, 3);
/** Stage `test-fix`'s environment with slug `login-pr42`, in the same legacy family. */
const THEIRS = TD(LEGACY, 4);

const SPEC: TaskSpec = {
  revision: 'new',
  sha: SHA_A,
  containers: [{ name: 'app', image: 'ghcr.io/acme/web:x', env: {}, port: 3000, essential: true }],
  cpu: 256,
  memory: 512,
  port: 3000,
  healthPath: '/health',
  spot: false,
};

function setup() {
  const ecs = new ECSClient({ region: 'eu-west-1' });
  const mock = mockClient(ecs);
  mock.on(DescribeTaskDefinitionCommand, { taskDefinition: MINE }).resolves({
    taskDefinition: { taskDefinitionArn: MINE, status: 'ACTIVE' },
    tags: tags('test', 'acme/web:42'),
  });
  mock.on(DescribeTaskDefinitionCommand, { taskDefinition: THEIRS }).resolves({
    taskDefinition: { taskDefinitionArn: THEIRS, status: 'ACTIVE' },
    tags: tags('test-fix', 'acme/web:42'),
  });
  mock.on(DeregisterTaskDefinitionCommand).resolves({});
  mock.on(DeleteTaskDefinitionsCommand).resolves({});
  const runtime = new EcsRuntime({
    ecs,
    cluster: CLUSTER,
    executionRoleArn: `arn:aws:iam::123456789012:role/exec`,
    logGroup: '/matinee/test/previews',
    region: 'eu-west-1',
    subnets: ['subnet-a'],
    securityGroups: ['sg-previews'],
    assignPublicIp: false,
  });
  return { mock, runtime };
}

const deregistered = (mock: ReturnType<typeof setup>['mock']) =>
  mock.commandCalls(DeregisterTaskDefinitionCommand).map((call) => call.args[0].input.taskDefinition);

describe('EcsRuntime and revisions of the legacy family', () => {
  it('names families with `_` and keeps the service and its log streams under the name they had', () => {
    expect(REF.names).toMatchObject({ family: FAMILY, legacyFamily: LEGACY, service: LEGACY });
  });

  it('retires a legacy revision of its own a rollout replaced, and never one of another stage or family', async () => {
    const { mock, runtime } = setup();
    mock.on(UpdateServiceCommand).resolves({
      service: {
        serviceArn: SERVICE_ARN,
        deployments: [
          { status: 'PRIMARY', taskDefinition: TD(FAMILY, 1) },
          { status: 'ACTIVE', taskDefinition: MINE },
          { status: 'ACTIVE', taskDefinition: THEIRS },
          // Someone pointed the service at a task definition of their own.
          { status: 'ACTIVE', taskDefinition: TD('by-hand', 7) },
        ],
      },
    });

    await runtime.ensureService(REF, {
      taskDefinitionArn: TD(FAMILY, 1),
      targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/mt-x/0123456789abcdef',
      desiredCount: 1,
      spec: SPEC,
    });

    expect(mock.commandCalls(UpdateServiceCommand)[0]?.args[0].input.service).toBe(LEGACY);
    expect(deregistered(mock)).toEqual([MINE]);
  });

  it('tears down its own legacy revisions with the rest, leaving the other stage its own', async () => {
    const { mock, runtime } = setup();
    mock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [] });
    mock
      .on(ListTaskDefinitionsCommand, { familyPrefix: FAMILY, status: 'ACTIVE' })
      .resolves({ taskDefinitionArns: [TD(FAMILY, 1)] });
    mock
      .on(ListTaskDefinitionsCommand, { familyPrefix: LEGACY, status: 'ACTIVE' })
      .resolves({ taskDefinitionArns: [MINE, THEIRS] });

    await runtime.deregisterRevisions(REF);

    expect(deregistered(mock)).toEqual([TD(FAMILY, 1), MINE]);
    expect(mock.commandCalls(DeleteTaskDefinitionsCommand).map((call) => call.args[0].input)).toEqual([
      { taskDefinitions: [TD(FAMILY, 1), MINE] },
    ]);
  });

  it('counts legacy revisions of its own left without a service, so a close removes them', async () => {
    const { mock, runtime } = setup();
    mock.on(DescribeServicesCommand).resolves({ services: [] });
    mock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [] });
    mock
      .on(ListTaskDefinitionsCommand, { familyPrefix: LEGACY, status: 'INACTIVE' })
      .resolves({ taskDefinitionArns: [MINE, THEIRS] });

    expect(await runtime.describe(REF)).toEqual({ revisions: 1 });
  });
});
