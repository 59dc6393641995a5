import {
  CloudWatchActivity,
  EcsRuntime,
  ElbRouter,
  EventBridgeBus,
  reconcileRequestedDetail,
  TaggingInventory,
} from '@matinee/aws';
import {
  desire,
  type EnvironmentId,
  environmentId,
  environmentRef,
  onPullRequest,
  reconcile,
  resync,
  type TaskSpec,
  TransientError,
  updateEnvironment,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { WEB_CONFIG } from '../support/configs.ts';
import { facts, SHA_A } from '../support/environments.ts';
import { type FakeAws, fakeAws } from '../support/fake-aws.ts';
import { FakeSourceControl, InMemoryStore, ManualClock, MemoryLogger } from '../support/fakes.ts';

const SETTINGS = { stage: 'test', domain: 'preview.example.com' };
const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.preview.example.com';
const REF = environmentRef(SETTINGS, { id: ID, slug: 'fix-login-pr42', host: HOST });

const SPEC: TaskSpec = {
  revision: 'aaaaaaaaaaaa-d1g3st',
  sha: SHA_A,
  containers: [
    { name: 'app', image: 'ghcr.io/acme/web:aaaa', env: { PORT: '3000' }, port: 3000, essential: true },
    { name: 'db', image: 'postgres:16', env: { POSTGRES_PASSWORD: 'preview' }, essential: true },
  ],
  cpu: 512,
  memory: 1024,
  port: 3000,
  healthPath: '/health',
  spot: true,
};

function adapters(aws: FakeAws) {
  const { clients, config } = aws;
  return {
    runtime: new EcsRuntime({
      ecs: clients.ecs,
      cluster: config.cluster,
      executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
      logGroup: '/matinee/test/previews',
      region: config.region,
      subnets: ['subnet-a'],
      securityGroups: ['sg-previews'],
      assignPublicIp: false,
    }),
    router: new ElbRouter({ elb: clients.elb, vpcId: config.vpcId, listenerArn: config.listenerArn }),
    activity: new CloudWatchActivity({
      cloudwatch: clients.cloudwatch,
      loadBalancerFullName: config.loadBalancerFullName,
    }),
    bus: new EventBridgeBus({ eventbridge: clients.eventbridge, busName: config.busName, retryDelayMs: 0 }),
    inventory: new TaggingInventory({ tagging: clients.tagging, stage: SETTINGS.stage }),
  };
}

/** The AWS calls `action` makes. */
async function callsOf(aws: FakeAws, action: () => Promise<unknown>): Promise<string[]> {
  const before = aws.calls().length;
  await action();
  return aws.calls().slice(before);
}

describe('the adapters through a life on (fake) AWS', () => {
  it('create, serve, sleep and remove an environment, leaving nothing tagged for it', async () => {
    const aws = fakeAws();
    const { runtime, router, inventory, activity } = adapters(aws);
    const steps: Record<string, string[]> = {};
    let targetGroupArn = '';
    let taskDefinitionArn = '';

    steps.ensureTargetGroup = await callsOf(aws, async () => {
      ({ targetGroupArn } = await router.ensureTargetGroup(REF, { port: 3000, healthPath: '/health' }));
    });
    steps.registerRevision = await callsOf(aws, async () => {
      ({ taskDefinitionArn } = await runtime.registerRevision(REF, SPEC));
    });
    steps.ensureService = await callsOf(aws, () =>
      runtime.ensureService(REF, { taskDefinitionArn, targetGroupArn, desiredCount: 1, spec: SPEC }),
    );
    expect((await router.describe(REF)).health).toBe('none');
    aws.tick();
    // The task runs before it passes the ALB's checks.
    expect((await router.describe(REF)).health).toBe('initial');
    aws.tick();
    expect(await router.describe(REF)).toEqual({
      targetGroupArn,
      ruleArn: undefined,
      warming: true, // attached by the rule nobody matches yet
      health: 'healthy',
      healthCheck: { path: '/health', standard: true },
    });
    expect((await runtime.describe(REF)).service).toMatchObject({
      desiredCount: 1,
      runningCount: 1,
      revision: SPEC.revision,
      taskDefinitionArn,
    });
    let ruleArn = '';
    steps.ensureRule = await callsOf(aws, async () => {
      ({ ruleArn } = await router.ensureRule(REF, targetGroupArn));
    });
    expect((await router.describe(REF)).ruleArn).toBe(ruleArn);
    aws.requestCounts.set(REF.names.targetGroup, 12);
    const since = new Date('2026-11-02T09:00:00Z');
    const seen = await activity.requestActivity(
      [{ ...REF, known: { targetGroupArn } }],
      since,
      new Date(since.getTime() + 1_800_000),
    );
    expect(seen.get(ID)).toEqual({ count: 12, lastAt: new Date(since.getTime() + 60_000) });

    steps.removeRule = await callsOf(aws, () => router.removeRule(REF));
    expect((await router.describe(REF)).ruleArn).toBeUndefined();
    steps.scaleService = await callsOf(aws, () => runtime.scaleService(REF, 0));
    steps.deleteService = await callsOf(aws, () => runtime.deleteService(REF));
    steps.deleteTargetGroup = await callsOf(aws, () => router.deleteTargetGroup(REF));
    steps.deregisterRevisions = await callsOf(aws, () => runtime.deregisterRevisions(REF));
    aws.tick();

    expect(steps).toEqual({
      ensureTargetGroup: [
        'ELB:CreateTargetGroup',
        'ELB:DescribeRules',
        'ELB:CreateRule',
        'ELB:ModifyTargetGroupAttributes',
      ],
      registerRevision: ['ECS:DescribeTaskDefinition', 'ECS:RegisterTaskDefinition'],
      ensureService: ['ECS:CreateService'],
      ensureRule: ['ELB:DescribeRules', 'ELB:ModifyRule'],
      removeRule: ['ELB:DescribeRules', 'ELB:DeleteRule'],
      scaleService: ['ECS:UpdateService'],
      deleteService: ['ECS:DeleteService'],
      deleteTargetGroup: ['ELB:DescribeTargetGroups', 'ELB:DescribeRules', 'ELB:DeleteTargetGroup'],
      deregisterRevisions: [
        'ECS:ListTaskDefinitions',
        // The legacy family (`matinee-<stage>-<slug>`), active and inactive: none of it here.
        'ECS:ListTaskDefinitions',
        'ECS:ListTaskDefinitions',
        'ECS:DeregisterTaskDefinition',
        'ECS:ListTaskDefinitions',
        'ECS:DeleteTaskDefinitions',
      ],
    });
    expect(await inventory.listOwned()).toEqual([]);
    expect(await runtime.describe(REF)).toEqual({ revisions: 0 });
    expect(await router.describe(REF)).toEqual({
      targetGroupArn: undefined,
      ruleArn: undefined,
      warming: false,
      health: 'none',
    });
  });

  it('repeats every ensure step without creating anything twice', async () => {
    const aws = fakeAws({ autoTick: true });
    const { runtime, router } = adapters(aws);
    const ensureAll = async () => {
      const { targetGroupArn } = await router.ensureTargetGroup(REF, { port: 3000, healthPath: '/health' });
      const { taskDefinitionArn } = await runtime.registerRevision(REF, SPEC);
      const { serviceArn } = await runtime.ensureService(REF, {
        taskDefinitionArn,
        targetGroupArn,
        desiredCount: 1,
        spec: SPEC,
      });
      const { ruleArn } = await router.ensureRule(REF, targetGroupArn);
      return { targetGroupArn, taskDefinitionArn, serviceArn, ruleArn };
    };

    const first = await ensureAll();
    const second = await ensureAll();

    expect(second).toEqual(first);
    expect([aws.targetGroups.size, aws.rules.size, aws.services.size, aws.taskDefinitions.length]).toEqual([
      1, 1, 1, 1,
    ]);
  });

  it('ends with one target group and one rule when two reconciles create them at once', async () => {
    const aws = fakeAws();
    const { router } = adapters(aws);
    const input = { port: 3000, healthPath: '/health' };

    const [a, b] = await Promise.all([
      router.ensureTargetGroup(REF, input),
      router.ensureTargetGroup(REF, input),
    ]);

    expect(a).toEqual(b);
    expect([aws.targetGroups.size, aws.rules.size]).toEqual([1, 1]);
    // Both tried the priority the host hashes to; the loser found the winner's rule.
    expect(aws.calls().filter((call) => call === 'ELB:CreateRule')).toHaveLength(2);
  });

  it('finds a group of the same name made with another health path, and keeps it', async () => {
    const aws = fakeAws();
    const { router } = adapters(aws);
    const { targetGroupArn } = await router.ensureTargetGroup(REF, { port: 3000, healthPath: '/health' });

    const again = await router.ensureTargetGroup(REF, { port: 3000, healthPath: '/ready' });

    expect(again.targetGroupArn).toBe(targetGroupArn);
    expect(aws.targetGroups.get(REF.names.targetGroup)?.input.HealthCheckPath).toBe('/ready');
  });

  it('finishes deleting revisions that a throttled teardown only deregistered', async () => {
    const aws = fakeAws({ autoTick: true });
    const { runtime } = adapters(aws);
    await runtime.registerRevision(REF, SPEC);
    aws.injectFault(
      'ECS:DeleteTaskDefinitions',
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }),
    );
    await expect(runtime.deregisterRevisions(REF)).rejects.toBeInstanceOf(TransientError);

    expect(await runtime.describe(REF)).toEqual({ revisions: 1 });
    await runtime.deregisterRevisions(REF);

    expect(await runtime.describe(REF)).toEqual({ revisions: 0 });
    expect(aws.tagged('matinee:host', HOST)).toEqual([]);
  });

  it('reports why the tasks of a service stopped', async () => {
    const aws = fakeAws();
    const { runtime, router } = adapters(aws);
    const { targetGroupArn } = await router.ensureTargetGroup(REF, { port: 3000, healthPath: '/health' });
    const { taskDefinitionArn } = await runtime.registerRevision(REF, SPEC);
    await runtime.ensureService(REF, { taskDefinitionArn, targetGroupArn, desiredCount: 1, spec: SPEC });
    aws.tick();

    aws.crashTasks(REF.names.service, 'Essential container in task exited');

    expect((await runtime.describe(REF)).service).toMatchObject({
      runningCount: 0,
      lastStoppedReason: 'Essential container in task exited',
    });
  });
});

/** Core's reconcile, resync and bus over the AWS adapters on the fake: the plan's order must suit AWS. */
function matinee(aws: FakeAws) {
  const store = new InMemoryStore();
  const source = new FakeSourceControl();
  source.setConfig('acme/web', WEB_CONFIG);
  const deps = {
    ...adapters(aws),
    store,
    source,
    clock: new ManualClock(),
    log: new MemoryLogger(),
    settings: SETTINGS,
  };
  let delivered = 0;
  return {
    deps,
    store,
    /** Reconciles every environment whose request reached the bus since the last drain, as its target would. */
    async drain(): Promise<void> {
      const events = aws.events.slice(delivered);
      delivered = aws.events.length;
      for (const event of events) {
        await reconcile(deps, reconcileRequestedDetail.parse(JSON.parse(event.Detail ?? '{}')).id);
      }
    },
    reconcile: (id: EnvironmentId) => reconcile(deps, id),
    async want(phase: 'running' | 'sleeping' | 'deleted') {
      const now = deps.clock.now().toISOString();
      await updateEnvironment(store, ID, (env) => ({
        env: env && desire(env, { phase, reason: 'test' }, now),
        result: undefined,
      }));
    },
  };
}

describe('reconcile on the AWS adapters', () => {
  it('opens, serves once healthy, sleeps, wakes and deletes an environment', async () => {
    const aws = fakeAws();
    const m = matinee(aws);

    await onPullRequest(m.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await m.drain();
    expect((await m.store.get(ID))?.observed.phase).toBe('starting');
    aws.tick();
    expect((await m.reconcile(ID))?.observed.phase).toBe('starting'); // running, checks not passed yet
    aws.tick();
    expect((await m.reconcile(ID))?.observed.phase).toBe('ready');

    await m.want('sleeping');
    expect((await m.reconcile(ID))?.observed.phase).toBe('sleeping');
    aws.tick();
    expect((await m.deps.router.describe(REF)).ruleArn).toBeUndefined();

    await m.want('running');
    expect((await m.reconcile(ID))?.observed.phase).toBe('starting');
    aws.tick();
    aws.tick();
    expect((await m.reconcile(ID))?.observed.phase).toBe('ready');

    await m.want('deleted');
    expect((await m.reconcile(ID))?.observed.phase).toBe('deleted');
    aws.tick();
    expect(await m.deps.inventory.listOwned()).toEqual([]);
  });

  it('is retried after throttling and then converges', async () => {
    const aws = fakeAws();
    const m = matinee(aws);
    const throttling = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    aws.injectFault('ECS:CreateService', throttling);

    await onPullRequest(m.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await expect(m.drain()).rejects.toBeInstanceOf(TransientError);
    await m.reconcile(ID);
    aws.tick();
    aws.tick();

    expect((await m.reconcile(ID))?.observed.phase).toBe('ready');
    expect([aws.targetGroups.size, aws.rules.size, aws.services.size]).toEqual([1, 1, 1]);
  });

  it('collects the resources of an environment nobody recorded', async () => {
    const aws = fakeAws({ autoTick: true });
    const { runtime, router } = adapters(aws);
    const { targetGroupArn } = await router.ensureTargetGroup(REF, { port: 3000, healthPath: '/health' });
    const { taskDefinitionArn } = await runtime.registerRevision(REF, SPEC);
    await runtime.ensureService(REF, { taskDefinitionArn, targetGroupArn, desiredCount: 1, spec: SPEC });
    await router.ensureRule(REF, targetGroupArn);
    const m = matinee(aws);

    const report = await resync(m.deps, { dryRun: false });

    expect(report.orphans).toEqual([
      {
        environmentId: ID,
        host: HOST,
        resources: expect.arrayContaining([targetGroupArn, taskDefinitionArn]),
      },
    ]);
    expect(await m.deps.inventory.listOwned()).toEqual([]);
  });
});
