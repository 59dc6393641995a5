import {
  ClientException,
  CreateServiceCommand,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  InvalidParameterException,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  ServiceNotActiveException,
  ServiceNotFoundException,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { EcsRuntime } from '@matinee/aws';
import {
  type EnvironmentRef,
  environmentId,
  environmentRef,
  MatineeError,
  type Resources,
  type TaskSpec,
  TransientError,
} from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { SHA_A } from '../support/environments.ts';

const FAMILY = 'matinee-test_fix-login-pr42';
/** The service's name, and the family every environment had before families took `_`. */
const SERVICE = 'matinee-test-fix-login-pr42';
const CLUSTER = 'arn:aws:ecs:eu-west-1:123456789012:cluster/matinee-test';
const TD = (n: number, family = FAMILY) =>
  `arn:aws:ecs:eu-west-1:123456789012:task-definition/${family}:${n}`;
const SERVICE_ARN = `arn:aws:ecs:eu-west-1:123456789012:service/matinee-test/${SERVICE}`;
const TG =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/mt-fix-login-pr42-1a2b3c4d/0123456789abcdef';

function ref(known: Resources = {}): EnvironmentRef {
  return environmentRef(
    { stage: 'test', domain: 'preview.example.com' },
    {
      id: environmentId('acme/web', 42),
      slug: 'fix-login-pr42',
      host: 'fix-login-pr42.preview.example.com',
      observed: { resources: known },
    },
  );
}

const SPEC: TaskSpec = {
  revision: 'aaaaaaaaaaaa-d1g3st',
  sha: SHA_A,
  containers: [
    {
      name: 'app',
      image: 'ghcr.io/acme/web:aaaa',
      command: ['npm', 'start'],
      env: { PORT: '3000', DATABASE_URL: 'postgres://db' },
      port: 3000,
      essential: true,
    },
    { name: 'db', image: 'postgres:16', env: { POSTGRES_PASSWORD: 'preview' }, essential: true },
  ],
  cpu: 512,
  memory: 1024,
  port: 3000,
  healthPath: '/health',
  spot: true,
};

const TAGS = [
  { key: 'matinee:stage', value: 'test' },
  // `#` is not allowed in AWS tag values: the id is written with `:` (see aws-tags.ts).
  { key: 'matinee:environment', value: 'acme/web:42' },
  { key: 'matinee:host', value: 'fix-login-pr42.preview.example.com' },
];

function setup(options: { spot?: boolean } = {}) {
  const ecs = new ECSClient({ region: 'eu-west-1' });
  const mock = mockClient(ecs);
  const runtime = new EcsRuntime({
    ecs,
    cluster: CLUSTER,
    executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
    taskRoleArn: 'arn:aws:iam::123456789012:role/task',
    logGroup: '/matinee/test/previews',
    region: 'eu-west-1',
    subnets: ['subnet-a', 'subnet-b'],
    securityGroups: ['sg-previews'],
    assignPublicIp: true,
  });
  return { mock, runtime, spec: { ...SPEC, spot: options.spot ?? true } };
}

const noActiveRevision = () =>
  new ClientException({ message: 'Unable to describe task definition.', $metadata: {} });
const throttled = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });

describe('EcsRuntime.registerRevision', () => {
  it('makes the seed wait for the app to start, and lets it exit without stopping the task', async () => {
    const { mock, runtime, spec } = setup();
    mock.on(DescribeTaskDefinitionCommand).rejects(noActiveRevision());
    mock.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: TD(1) } });
    const seeded: TaskSpec = {
      ...spec,
      containers: [
        ...spec.containers,
        {
          name: 'matinee-seed',
          image: 'ghcr.io/acme/web:abc',
          command: ['npm', 'run', 'seed'],
          env: {},
          essential: false,
          dependsOn: [{ container: 'app', condition: 'START' }],
        },
      ],
    };

    await runtime.registerRevision(ref(), seeded);

    const definitions = mock.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input
      .containerDefinitions;
    expect(definitions?.at(-1)).toMatchObject({
      name: 'matinee-seed',
      essential: false,
      command: ['npm', 'run', 'seed'],
      dependsOn: [{ containerName: 'app', condition: 'START' }],
    });
  });

  it('registers every container in one Fargate task, logs to the group, the port on the app, tagged with the revision', async () => {
    const { mock, runtime, spec } = setup();
    mock.on(DescribeTaskDefinitionCommand).rejects(noActiveRevision());
    mock.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: TD(1) } });

    const result = await runtime.registerRevision(ref(), spec);

    expect(result).toEqual({ taskDefinitionArn: TD(1) });
    expect(mock.commandCalls(DescribeTaskDefinitionCommand)[0]?.args[0].input).toEqual({
      taskDefinition: FAMILY,
      include: ['TAGS'],
    });
    const logs = {
      logDriver: 'awslogs',
      options: {
        'awslogs-group': '/matinee/test/previews',
        'awslogs-region': 'eu-west-1',
        'awslogs-stream-prefix': SERVICE,
      },
    };
    expect(mock.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input).toEqual({
      family: FAMILY,
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '512',
      memory: '1024',
      runtimePlatform: { operatingSystemFamily: 'LINUX' },
      executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
      taskRoleArn: 'arn:aws:iam::123456789012:role/task',
      containerDefinitions: [
        {
          name: 'app',
          image: 'ghcr.io/acme/web:aaaa',
          command: ['npm', 'start'],
          essential: true,
          environment: [
            { name: 'DATABASE_URL', value: 'postgres://db' },
            { name: 'PORT', value: '3000' },
          ],
          portMappings: [{ containerPort: 3000, protocol: 'tcp' }],
          logConfiguration: logs,
        },
        {
          name: 'db',
          image: 'postgres:16',
          command: undefined,
          essential: true,
          environment: [{ name: 'POSTGRES_PASSWORD', value: 'preview' }],
          portMappings: undefined,
          logConfiguration: logs,
        },
      ],
      tags: [...TAGS, { key: 'matinee:revision', value: SPEC.revision }],
    });
  });

  it('reuses the latest active revision when it was made from the same spec revision', async () => {
    const { mock, runtime, spec } = setup();
    mock.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { taskDefinitionArn: TD(3), status: 'ACTIVE' },
      tags: [{ key: 'matinee:revision', value: SPEC.revision }],
    });

    expect(await runtime.registerRevision(ref(), spec)).toEqual({ taskDefinitionArn: TD(3) });
    expect(mock.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  });

  it('runs a task whose volumes need a role of their own as that role, not the stage’s task role', async () => {
    const { mock, runtime, spec } = setup();
    mock.on(DescribeTaskDefinitionCommand).rejects(noActiveRevision());
    mock.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: TD(1) } });
    const own = 'arn:aws:iam::123456789012:role/matinee/test/matinee-test-fix-login-pr42-0123abcd';

    await runtime.registerRevision(ref(), { ...spec, identity: own });

    expect(mock.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input.taskRoleArn).toBe(own);
  });

  it('asks to be retried when ECS cannot yet assume a role IAM made moments ago', async () => {
    const { mock, runtime, spec } = setup();
    mock.on(CreateServiceCommand).rejects(
      new InvalidParameterException({
        message: 'ECS was unable to assume the role that was provided for this task.',
        $metadata: {},
      }),
    );
    const input = { taskDefinitionArn: TD(1), targetGroupArn: TG, desiredCount: 1, spec };

    await expect(runtime.ensureService(ref(), input)).rejects.toBeInstanceOf(TransientError);
  });

  it('registers a new revision when the latest one is of another commit', async () => {
    const { mock, runtime, spec } = setup();
    mock.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { taskDefinitionArn: TD(3), status: 'ACTIVE' },
      tags: [{ key: 'matinee:revision', value: 'bbbbbbbbbbbb-d1g3st' }],
    });
    mock.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: TD(4) } });

    expect(await runtime.registerRevision(ref(), spec)).toEqual({ taskDefinitionArn: TD(4) });
  });
});

describe('EcsRuntime.ensureService', () => {
  const input = (spec: TaskSpec) => ({ taskDefinitionArn: TD(1), targetGroupArn: TG, desiredCount: 1, spec });
  const shape = (capacityProvider: string) => ({
    cluster: CLUSTER,
    taskDefinition: TD(1),
    desiredCount: 1,
    capacityProviderStrategy: [{ capacityProvider, weight: 1 }],
    loadBalancers: [{ targetGroupArn: TG, containerName: 'app', containerPort: 3000 }],
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: ['subnet-a', 'subnet-b'],
        securityGroups: ['sg-previews'],
        assignPublicIp: 'ENABLED',
      },
    },
    healthCheckGracePeriodSeconds: 120,
    deploymentConfiguration: {
      deploymentCircuitBreaker: { enable: true, rollback: false },
      minimumHealthyPercent: 0,
      maximumPercent: 200,
    },
  });

  it('creates the service on Fargate Spot, registering the app container into the target group', async () => {
    const { mock, runtime, spec } = setup();
    mock.on(CreateServiceCommand).resolves({ service: { serviceArn: SERVICE_ARN } });

    expect(await runtime.ensureService(ref(), input(spec))).toEqual({ serviceArn: SERVICE_ARN });
    expect(mock.commandCalls(CreateServiceCommand)[0]?.args[0].input).toEqual({
      ...shape('FARGATE_SPOT'),
      serviceName: SERVICE,
      enableECSManagedTags: true,
      propagateTags: 'SERVICE',
      tags: TAGS,
    });
    expect(mock.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('runs on plain Fargate when the config turns Spot off', async () => {
    const { mock, runtime, spec } = setup({ spot: false });
    mock.on(CreateServiceCommand).resolves({ service: { serviceArn: SERVICE_ARN } });

    await runtime.ensureService(ref(), input(spec));

    expect(mock.commandCalls(CreateServiceCommand)[0]?.args[0].input.capacityProviderStrategy).toEqual([
      { capacityProvider: 'FARGATE', weight: 1 },
    ]);
  });

  it('updates a service it recorded to the new task definition and count, without creating', async () => {
    const { mock, runtime, spec } = setup();
    mock.on(UpdateServiceCommand).resolves({ service: { serviceArn: SERVICE_ARN } });

    await runtime.ensureService(ref({ serviceArn: SERVICE_ARN }), input(spec));

    expect(mock.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toEqual({
      ...shape('FARGATE_SPOT'),
      service: SERVICE,
      forceNewDeployment: true,
    });
    expect(mock.commandCalls(CreateServiceCommand)).toHaveLength(0);
  });

  it('retires the revisions a rollout replaces, which no rollback will need', async () => {
    const { mock, runtime, spec } = setup();
    mock.on(UpdateServiceCommand).resolves({
      service: {
        serviceArn: SERVICE_ARN,
        deployments: [
          { status: 'PRIMARY', taskDefinition: TD(1) },
          { status: 'ACTIVE', taskDefinition: TD(0) },
        ],
      },
    });
    mock
      .on(DeregisterTaskDefinitionCommand)
      .rejects(new ClientException({ message: 'The specified task definition is inactive.', $metadata: {} }));

    await runtime.ensureService(ref({ serviceArn: SERVICE_ARN }), input(spec));

    expect(mock.commandCalls(DeregisterTaskDefinitionCommand).map((call) => call.args[0].input)).toEqual([
      { taskDefinition: TD(0) },
    ]);
  });

  it('updates instead when a racing reconcile created the service first', async () => {
    const { mock, runtime, spec } = setup();
    mock
      .on(CreateServiceCommand)
      .rejects(
        new InvalidParameterException({ message: 'Creation of service was not idempotent.', $metadata: {} }),
      );
    mock.on(UpdateServiceCommand).resolves({ service: { serviceArn: SERVICE_ARN } });

    expect(await runtime.ensureService(ref(), input(spec))).toEqual({ serviceArn: SERVICE_ARN });
    expect(mock.commandCalls(UpdateServiceCommand)).toHaveLength(1);
  });

  it('creates the service again when the recorded one is gone', async () => {
    const { mock, runtime, spec } = setup();
    mock
      .on(UpdateServiceCommand)
      .rejects(new ServiceNotActiveException({ message: 'Service was not ACTIVE.', $metadata: {} }));
    mock.on(CreateServiceCommand).resolves({ service: { serviceArn: SERVICE_ARN } });

    expect(await runtime.ensureService(ref({ serviceArn: SERVICE_ARN }), input(spec))).toEqual({
      serviceArn: SERVICE_ARN,
    });
    expect(mock.commandCalls(CreateServiceCommand)).toHaveLength(1);
  });

  it('asks to be retried while the previous service of the name is still draining', async () => {
    const { mock, runtime, spec } = setup();
    mock.on(CreateServiceCommand).rejects(
      new InvalidParameterException({
        message: 'Unable to Start a service that is still Draining.',
        $metadata: {},
      }),
    );

    await expect(runtime.ensureService(ref(), input(spec))).rejects.toBeInstanceOf(TransientError);
  });
});

describe('EcsRuntime.describe', () => {
  it('reports no service, and counts only active revisions of exactly this family, every page', async () => {
    const { mock, runtime } = setup();
    mock.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });
    mock
      .on(ListTaskDefinitionsCommand)
      .resolvesOnce({ taskDefinitionArns: [TD(1), TD(1, `${FAMILY}0`)], nextToken: 'page-2' })
      .resolvesOnce({ taskDefinitionArns: [TD(2)] });

    expect(await runtime.describe(ref())).toEqual({ revisions: 2 });
    expect(mock.commandCalls(DescribeServicesCommand)[0]?.args[0].input).toEqual({
      cluster: CLUSTER,
      services: [SERVICE],
    });
    expect(mock.commandCalls(ListTaskDefinitionsCommand).map((call) => call.args[0].input)).toEqual([
      { familyPrefix: FAMILY, status: 'ACTIVE', nextToken: undefined },
      { familyPrefix: FAMILY, status: 'ACTIVE', nextToken: 'page-2' },
    ]);
  });

  it('counts deregistered revisions not yet deleted when nothing else is left, so a teardown finishes', async () => {
    const { mock, runtime } = setup();
    mock.on(DescribeServicesCommand).resolves({ services: [] });
    mock.on(ListTaskDefinitionsCommand, { status: 'ACTIVE' }).resolves({ taskDefinitionArns: [] });
    mock.on(ListTaskDefinitionsCommand, { status: 'INACTIVE' }).resolves({ taskDefinitionArns: [TD(1)] });

    expect(await runtime.describe(ref())).toEqual({ revisions: 1 });
  });

  it('treats a draining service as gone', async () => {
    const { mock, runtime } = setup();
    mock
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: SERVICE, serviceArn: SERVICE_ARN, status: 'DRAINING' }] });
    mock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [] });

    expect(await runtime.describe(ref())).toEqual({ revisions: 0 });
  });

  it('counts the running tasks of the primary deployment and reads its revision once', async () => {
    const { mock, runtime } = setup();
    mock.on(DescribeServicesCommand).resolves({
      services: [
        {
          serviceName: SERVICE,
          serviceArn: SERVICE_ARN,
          status: 'ACTIVE',
          desiredCount: 1,
          runningCount: 2,
          taskDefinition: TD(2),
          deployments: [
            { status: 'PRIMARY', taskDefinition: TD(2), runningCount: 1 },
            { status: 'ACTIVE', taskDefinition: TD(1), runningCount: 1 },
          ],
        },
      ],
    });
    mock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [TD(1), TD(2)] });
    mock
      .on(DescribeTaskDefinitionCommand)
      .resolves({ tags: [{ key: 'matinee:revision', value: SPEC.revision }] });

    const first = await runtime.describe(ref());
    await runtime.describe(ref());

    expect(first).toEqual({
      service: {
        serviceArn: SERVICE_ARN,
        desiredCount: 1,
        runningCount: 1,
        revision: SPEC.revision,
        taskDefinitionArn: TD(2),
        lastStoppedReason: undefined,
      },
      // At least the running one; the list is left to a teardown, which lists them itself.
      revisions: 1,
    });
    expect(mock.commandCalls(DescribeTaskDefinitionCommand).map((call) => call.args[0].input)).toEqual([
      { taskDefinition: TD(2), include: ['TAGS'] },
    ]);
    expect(mock.commandCalls(ListTasksCommand)).toHaveLength(0);
    expect(mock.commandCalls(ListTaskDefinitionsCommand)).toHaveLength(0);
  });

  it('explains missing tasks with the reason of the latest stopped one', async () => {
    const { mock, runtime } = setup();
    mock.on(DescribeServicesCommand).resolves({
      services: [
        {
          serviceName: SERVICE,
          serviceArn: SERVICE_ARN,
          status: 'ACTIVE',
          desiredCount: 1,
          deployments: [{ status: 'PRIMARY', taskDefinition: TD(1), runningCount: 0 }],
        },
      ],
    });
    mock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [TD(1)] });
    mock.on(DescribeTaskDefinitionCommand).resolves({ tags: [] });
    mock.on(ListTasksCommand).resolves({ taskArns: ['task-1', 'task-2'] });
    mock.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: 'task-1', stoppedAt: new Date('2026-11-02T09:00:00Z'), stoppedReason: 'older' },
        {
          taskArn: 'task-2',
          stoppedAt: new Date('2026-11-02T09:05:00Z'),
          stoppedReason: 'Essential container exited',
        },
      ],
    });

    const { service } = await runtime.describe(ref());

    expect(service?.lastStoppedReason).toBe('Essential container exited');
    expect(service?.revision).toBeUndefined();
    expect(mock.commandCalls(ListTasksCommand)[0]?.args[0].input).toEqual({
      cluster: CLUSTER,
      serviceName: SERVICE,
      desiredStatus: 'STOPPED',
    });
    expect(mock.commandCalls(DescribeTasksCommand)[0]?.args[0].input).toEqual({
      cluster: CLUSTER,
      tasks: ['task-1', 'task-2'],
    });
  });

  it('turns throttling into a TransientError', async () => {
    const { mock, runtime } = setup();
    mock.on(DescribeServicesCommand).rejects(throttled());
    mock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [] });

    await expect(runtime.describe(ref())).rejects.toBeInstanceOf(TransientError);
  });
});

describe('EcsRuntime scaling and removal', () => {
  it('scales the service to a desired count', async () => {
    const { mock, runtime } = setup();
    mock.on(UpdateServiceCommand).resolves({});

    await runtime.scaleService(ref(), 0);

    expect(mock.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toEqual({
      cluster: CLUSTER,
      service: SERVICE,
      desiredCount: 0,
    });
  });

  it('takes a missing service as scaled to zero, but not as scaled up', async () => {
    const { mock, runtime } = setup();
    mock
      .on(UpdateServiceCommand)
      .rejects(new ServiceNotFoundException({ message: 'Service not found.', $metadata: {} }));

    await expect(runtime.scaleService(ref(), 0)).resolves.toBeUndefined();
    await expect(runtime.scaleService(ref(), 1)).rejects.toBeInstanceOf(MatineeError);
  });

  it('deletes the service with force, and a missing one is already deleted', async () => {
    const { mock, runtime } = setup();
    mock
      .on(DeleteServiceCommand)
      .resolvesOnce({})
      .rejects(new ServiceNotFoundException({ message: 'Service not found.', $metadata: {} }));

    await runtime.deleteService(ref());
    await runtime.deleteService(ref());

    expect(mock.commandCalls(DeleteServiceCommand)[0]?.args[0].input).toEqual({
      cluster: CLUSTER,
      service: SERVICE,
      force: true,
    });
  });

  it('deregisters every active revision, then deletes the inactive ones ten at a time', async () => {
    const { mock, runtime } = setup();
    const active = [TD(11), TD(12)];
    const inactive = Array.from({ length: 12 }, (_, i) => TD(i + 1));
    mock
      .on(ListTaskDefinitionsCommand, { status: 'ACTIVE' })
      .resolves({ taskDefinitionArns: [...active, TD(1, `${FAMILY}-other`)] });
    mock.on(ListTaskDefinitionsCommand, { status: 'INACTIVE' }).resolves({ taskDefinitionArns: inactive });
    mock.on(DeregisterTaskDefinitionCommand).resolves({});
    mock.on(DeleteTaskDefinitionsCommand).resolves({});

    await runtime.deregisterRevisions(ref());

    expect(mock.commandCalls(DeregisterTaskDefinitionCommand).map((call) => call.args[0].input)).toEqual(
      active.map((taskDefinition) => ({ taskDefinition })),
    );
    // The ones just deregistered first (a listing may lag), then leftovers not among them.
    expect(mock.commandCalls(DeleteTaskDefinitionsCommand).map((call) => call.args[0].input)).toEqual([
      { taskDefinitions: [...active, ...inactive.slice(0, 8)] },
      { taskDefinitions: inactive.slice(8, 10) },
    ]);
  });

  it('has nothing to do for a family without revisions', async () => {
    const { mock, runtime } = setup();
    mock.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [] });

    await runtime.deregisterRevisions(ref());

    expect(mock.commandCalls(DeregisterTaskDefinitionCommand)).toHaveLength(0);
    expect(mock.commandCalls(DeleteTaskDefinitionsCommand)).toHaveLength(0);
  });
});
