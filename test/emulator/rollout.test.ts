import { resourceNames, retryFailed } from '@matinee/core';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { ID, pullRequest, REPO, SHA_1, SHA_2, serveRepo } from '../support/aws-deployment.ts';
import { WEB_CONFIG } from '../support/configs.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { Holdings } from './support/holdings.ts';
import { motoDeployment } from './support/moto-deployment.ts';

/** Rollouts on moto: a changed health path, crashing tasks, and a retry after the failure. */
let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
});
afterEach(() => github.stop());

const open = () => pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z');

describe.skipIf(!inject('motoEndpoint'))('rollouts on moto', () => {
  it("a push that changes app.health changes the target group's health check in place", async () => {
    github.files.set(
      `${REPO}@${SHA_2}:.matinee.yml`,
      WEB_CONFIG.replace('health: /health', 'health: /healthz'),
    );
    const d = await motoDeployment(github);
    const held = new Holdings(d.moto, d.ecs);
    await d.step('open', () => d.webhook('pull_request', open()));
    const [before] = await held.targetGroups();
    expect(before?.HealthCheckPath).toBe('/health');

    github.pulls[0] = { number: 42, head: { sha: SHA_2 } };
    await d.step('push', () =>
      d.webhook('pull_request', pullRequest('synchronize', SHA_2, '2026-11-22T12:00:00Z')),
    );

    expect((await d.platform.store.get(ID))?.observed).toMatchObject({ phase: 'ready', sha: SHA_2 });
    const [after, ...more] = await held.targetGroups();
    expect(more).toEqual([]);
    // The same group (its rule and the service still forward to it), now checked on the new path.
    expect(after).toMatchObject({ TargetGroupArn: before?.TargetGroupArn, HealthCheckPath: '/healthz' });
    expect((await held.hostRules()).map((rule) => rule.forwardsTo)).toEqual([before?.TargetGroupArn]);
  });

  it('fails an environment whose tasks keep crashing and scales its service to 0', async () => {
    const d = await motoDeployment(github);
    const held = new Holdings(d.moto, d.ecs);
    const names = resourceNames(d.moto.stage, ID, 'fix-login-pr42');
    d.ecs.crashing.set(names.service, 'Essential container in task exited');

    await d.step('open', () => d.webhook('pull_request', open()));

    const env = await d.platform.store.get(ID);
    expect(env?.observed.phase).toBe('failed');
    expect(env?.observed.failure?.reason).toMatch(/Essential container in task exited/);
    const [service, ...more] = await held.activeServices();
    expect(more).toEqual([]);
    expect(service).toMatchObject({ serviceName: names.service, desiredCount: 0 });
    expect(d.ecs.running(service?.serviceArn ?? '')).toEqual([]);
  });

  it('a retry after the failure rolls out a new task definition revision on the same service', async () => {
    const d = await motoDeployment(github);
    const held = new Holdings(d.moto, d.ecs);
    const names = resourceNames(d.moto.stage, ID, 'fix-login-pr42');
    d.ecs.crashing.set(names.service, 'Essential container in task exited');
    await d.step('open', () => d.webhook('pull_request', open()));
    expect((await d.platform.store.get(ID))?.observed.phase).toBe('failed');
    const [failed] = await held.activeServices();

    d.ecs.crashing.delete(names.service);
    // The failed page's retry button, served by the wake function.
    await d.step('retry', () => d.as('wake', () => retryFailed(d.platform, ID)));

    const env = await d.platform.store.get(ID);
    expect(env?.observed).toMatchObject({ phase: 'ready', sha: SHA_1 });
    expect(env?.observed.failure).toBeUndefined();
    const revisions = await held.taskDefinitions(names.family);
    expect(revisions.map((td) => [td.revision, td.status])).toEqual([
      [1, 'INACTIVE'],
      [2, 'ACTIVE'],
    ]);
    const [service, ...more] = await held.activeServices();
    expect(more).toEqual([]);
    expect(service).toMatchObject({
      serviceArn: failed?.serviceArn,
      desiredCount: 1,
      taskDefinition: revisions[1]?.taskDefinitionArn,
    });
    expect(d.ecs.running(service?.serviceArn ?? '')).toHaveLength(1);
  });
});
