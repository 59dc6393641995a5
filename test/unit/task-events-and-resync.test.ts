import {
  environmentId,
  onPullRequest,
  onTaskEvent,
  publishFeedback,
  resync,
  type TaskEvent,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts, SHA_B } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

const ID = environmentId('acme/web', 42);
const SERVICE = 'matinee-test-fix-login-pr42';

async function opened(h: ReturnType<typeof harness>, number = 42, branch = 'fix-login') {
  await onPullRequest(h.deps, { repo: 'acme/web', number, action: 'opened', facts: facts({ branch }) });
  await h.drain();
}

let tasks = 0;
async function crash(h: ReturnType<typeof harness>, overrides: Partial<TaskEvent> = {}) {
  const env = await h.store.get(ID);
  return onTaskEvent(h.deps, {
    service: SERVICE,
    taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/matinee-test/${++tasks}`,
    taskDefinitionArn: env?.observed.resources.taskDefinitionArn ?? '',
    lastStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    ...overrides,
  });
}

describe('task events', () => {
  it('leaves a running task to the steady state that follows its health checks', async () => {
    const h = harness();
    await opened(h);
    h.bus.requests.length = 0;
    const env = await h.store.get(ID);
    const outcome = await onTaskEvent(h.deps, {
      service: SERVICE,
      taskArn: 'task-1',
      taskDefinitionArn: env?.observed.resources.taskDefinitionArn ?? '',
      lastStatus: 'RUNNING',
    });
    expect(outcome).toBe('ignored');
    expect(h.bus.ids).toEqual([]);
  });

  it('ignores services that are not this stage’s environments', async () => {
    const h = harness();
    await opened(h);
    expect(
      await onTaskEvent(h.deps, {
        service: 'billing-api',
        taskArn: 'task-1',
        taskDefinitionArn: 'x',
        lastStatus: 'RUNNING',
      }),
    ).toBe('ignored');
    expect(
      await onTaskEvent(h.deps, {
        service: 'matinee-prod-fix-login-pr42',
        taskArn: 'task-1',
        taskDefinitionArn: 'x',
        lastStatus: 'RUNNING',
      }),
    ).toBe('ignored');
  });

  it('never counts a task ECS could not start as its own role (IAM catching up with a new role) as a crash', async () => {
    const h = harness();
    await opened(h);
    h.bus.requests.length = 0;
    const lagging = {
      stopCode: 'TaskFailedToStart',
      stoppedReason:
        "ECS was unable to assume the role 'arn:aws:iam::123456789012:role/matinee/test/x' that was provided for this task.",
    };

    for (let i = 0; i < 4; i++) expect(await crash(h, lagging)).toBe('reconcile');

    const env = await h.store.get(ID);
    expect(env?.observed.crashes).toBeUndefined();
    expect(env?.observed.phase).not.toBe('failed');
    expect(h.bus.ids).toContain(ID);
  });

  it('marks a commit failed after it stopped on its own three times, and stops it', async () => {
    const h = harness();
    await opened(h);
    expect(await crash(h)).toBe('crash');
    expect(await crash(h)).toBe('crash');
    expect(await crash(h)).toBe('failed');
    await h.drain();

    const env = await h.store.get(ID);
    expect(env?.observed).toMatchObject({
      phase: 'failed',
      failure: { reason: 'stopped 3 times: Essential container in task exited' },
    });
    expect([...h.cloud.services.values()].map((s) => s.desiredCount)).toEqual([0]);
  });

  it('does not count Spot interruptions, scale-in, or tasks of a previous commit as crashes', async () => {
    const h = harness();
    await opened(h);
    await crash(h, { stopCode: 'SpotInterruption' });
    await crash(h, {
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: 'Scaling activity initiated by deployment',
    });
    await crash(h, { taskDefinitionArn: 'arn:taskdef/old:1' });
    expect((await h.store.get(ID))?.observed.crashes).toBeUndefined();
  });

  it('asks for nothing when a task stops for scale-in, a deploy or Spot: ECS replaces what is wanted', async () => {
    const h = harness();
    await opened(h);
    h.bus.requests.splice(0);

    const outcomes = [
      await crash(h, { stopCode: 'SpotInterruption' }),
      await crash(h, {
        stopCode: 'ServiceSchedulerInitiated',
        stoppedReason: 'Scaling activity initiated by (deployment)',
      }),
    ];

    expect(outcomes).toEqual(['ignored', 'ignored']);
    expect(h.bus.requests).toEqual([]);
  });

  it('counts failed health checks as crashes, and starts counting again for a new commit', async () => {
    const h = harness();
    await opened(h);
    await crash(h, {
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: 'Task failed ELB health checks in (target-group x)',
    });
    await crash(h);
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'synchronize',
      facts: facts({ headSha: SHA_B, updatedAt: '2026-11-02T09:05:00Z' }),
    });
    await h.drain();
    expect(await crash(h)).toBe('crash');
    expect((await h.store.get(ID))?.observed.crashes).toMatchObject({ sha: SHA_B, count: 1 });
  });

  it('counts a stop EventBridge delivers twice once', async () => {
    const h = harness();
    await opened(h);
    const stop = { taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/matinee-test/abc' };

    const outcomes = [await crash(h, stop), await crash(h, stop), await crash(h, stop)];

    expect(outcomes).toEqual(['crash', 'ignored', 'ignored']);
    const env = await h.store.get(ID);
    expect(env?.observed.crashes?.count).toBe(1);
    expect(env?.observed.failure).toBeUndefined();
  });

  it('counts two deliveries of one stop once even when they race', async () => {
    const h = harness();
    await opened(h);
    const stop = { taskArn: 'arn:aws:ecs:eu-west-1:123456789012:task/matinee-test/abc' };

    await Promise.all([crash(h, stop), crash(h, stop)]);

    expect((await h.store.get(ID))?.observed.crashes?.count).toBe(1);
  });

  it('ignores the stop of a task created before the environment was last woken or retried', async () => {
    const h = harness();
    await opened(h);
    const since = Date.parse((await h.store.get(ID))?.desired.since ?? '');

    const outcome = await crash(h, { createdAt: new Date(since - 60_000).toISOString() });
    const fresh = await crash(h, { createdAt: new Date(since + 1000).toISOString() });

    expect([outcome, fresh]).toEqual(['ignored', 'crash']);
    expect((await h.store.get(ID))?.observed.crashes?.count).toBe(1);
  });
});

describe('resync', () => {
  it('removes the environment of a pull request closed while its webhook was lost', async () => {
    const h = harness();
    await opened(h);
    h.clock.advance(11 * 60_000);
    h.source.open.set('acme/web', []);

    const report = await resync(h.deps, { dryRun: false });
    await h.drain();

    expect(report.closed).toEqual([ID]);
    expect((await h.store.get(ID))?.observed.phase).toBe('deleted');
    expect(h.cloud.inventory()).toEqual([]);
  });

  it('asks again for an environment that keeps a command GitHub could not vouch for', async () => {
    const h = harness();
    await opened(h);
    h.cloud.startTasks();
    await h.reconcile(ID);
    await publishFeedback(h.deps, ID); // settled and published: only the kept command is left to do
    const env = await h.store.get(ID);
    if (!env) throw new Error('no environment');
    await h.store.save({
      ...env,
      pendingCommands: [{ commentId: 7, user: 'maintainer', body: '/matinee sleep' }],
    });
    h.bus.requests.length = 0;
    h.source.open.set('acme/web', [{ number: 42, headSha: facts().headSha }]);
    h.clock.advance(11 * 60_000);

    const report = await resync(h.deps, { dryRun: false });

    expect(report.stuck).toEqual([ID]);
    expect(h.bus.ids).toEqual([ID]);
  });

  it('leaves young environments alone: their webhook may still be on its way', async () => {
    const h = harness();
    await opened(h);
    h.source.open.set('acme/web', []);
    expect((await resync(h.deps, { dryRun: false })).closed).toEqual([]);
  });

  it('removes tagged resources that no environment owns, and only those', async () => {
    const h = harness();
    await opened(h);
    await opened(h, 43, 'keep-me');
    h.cloud.startTasks();
    await h.reconcile(ID);
    h.store.environments.delete(ID);
    h.clock.advance(11 * 60_000);
    h.source.open.set('acme/web', [{ number: 43, headSha: facts().headSha }]);

    const report = await resync(h.deps, { dryRun: false });

    expect(report.orphans).toEqual([
      expect.objectContaining({
        environmentId: ID,
        host: 'fix-login-pr42.preview.example.com',
        resources: expect.any(Array),
      }),
    ]);
    expect(report.orphans[0]?.resources).toHaveLength(4);
    expect(h.cloud.inventory().every((resource) => resource.includes('keep-me'))).toBe(true);
    expect(h.cloud.inventory()).toHaveLength(3);
  });

  it('in dry-run, reports the same and changes nothing', async () => {
    const h = harness();
    await opened(h);
    h.store.environments.delete(ID);
    h.clock.advance(11 * 60_000);
    const before = h.cloud.inventory();
    const writes = h.store.writes;

    const report = await resync(h.deps, { dryRun: true });

    expect(report.orphans).toHaveLength(1);
    expect(h.cloud.inventory()).toEqual(before);
    expect(h.store.writes).toBe(writes);
    expect(h.bus.ids).toEqual([]);
  });

  it('asks again for environments stuck short of what is wanted', async () => {
    const h = harness();
    await opened(h);
    h.clock.advance(11 * 60_000);
    h.source.open.set('acme/web', [{ number: 42, headSha: facts().headSha }]);
    const report = await resync(h.deps, { dryRun: false });
    expect(report.stuck).toEqual([ID]);
    expect(h.bus.ids).toEqual([ID]);
  });

  it('asks again for a closed environment whose last status GitHub refused, so that it is published', async () => {
    const h = harness();
    await opened(h);
    await publishFeedback(h.deps, ID);
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'closed',
      facts: facts({ open: false, updatedAt: '2026-11-02T09:05:00Z' }),
    });
    await h.drain();
    h.source.failPublishes = 1;
    expect(await publishFeedback(h.deps, ID)).toBe('failed');
    h.clock.advance(11 * 60_000);

    const report = await resync(h.deps, { dryRun: false });
    await h.drain();

    expect(report.stuck).toEqual([ID]);
    expect(await publishFeedback(h.deps, ID)).toBe('published');
    expect(h.source.published.map((r) => r.state)).toEqual(['building', 'removed']);
  });

  it('leaves a settled environment alone once its status is published', async () => {
    const h = harness();
    await opened(h);
    h.cloud.startTasks();
    await h.reconcile(ID);
    await publishFeedback(h.deps, ID);
    h.clock.advance(11 * 60_000);
    h.source.open.set('acme/web', [{ number: 42, headSha: facts().headSha }]);

    expect((await resync(h.deps, { dryRun: false })).stuck).toEqual([]);
  });
});
