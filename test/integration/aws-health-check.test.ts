import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsDeployment, ID, pullRequest, REPO, SHA_1, SHA_2, serveRepo } from '../support/aws-deployment.ts';
import { WEB_CONFIG } from '../support/configs.ts';
import { localTable } from '../support/dynamo.ts';
import { fakeAws } from '../support/fake-aws.ts';
import { FakeGithub } from '../support/fake-github.ts';

/** `.matinee.yml`'s `app.health` is the load balancer's health check of the environment's target group. */
let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
});
afterEach(() => github.stop());

describe('a push that changes app.health', () => {
  it('changes the target group’s health check before the new commit’s tasks are judged by it', async () => {
    github.files.set(
      `${REPO}@${SHA_2}:.matinee.yml`,
      WEB_CONFIG.replace('health: /health', 'health: /healthz'),
    );
    const aws = fakeAws();
    const { platform, webhook, step } = awsDeployment(aws, github, await localTable());
    await step('open', () => webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')));
    const group = () => [...aws.targetGroups.values()][0];
    expect(group()?.input.HealthCheckPath).toBe('/health');

    github.pulls[0] = { number: 42, head: { sha: SHA_2 } };
    const push = await step('push', () =>
      webhook('pull_request', pullRequest('synchronize', SHA_2, '2026-11-22T12:00:00Z')),
    );

    expect(aws.targetGroups.size).toBe(1);
    expect(group()?.input).toMatchObject({
      HealthCheckPath: '/healthz',
      HealthCheckPort: 'traffic-port',
      Matcher: { HttpCode: '200-399' },
    });
    expect(push.indexOf('ELB:ModifyTargetGroup')).toBeGreaterThanOrEqual(0);
    expect(push.indexOf('ELB:ModifyTargetGroup')).toBeLessThan(push.indexOf('ECS:UpdateService'));
    expect((await platform.store.get(ID))?.observed).toMatchObject({ phase: 'ready', sha: SHA_2 });
  });

  it('changes nothing about the group on a push that keeps it', async () => {
    const aws = fakeAws();
    const { webhook, step } = awsDeployment(aws, github, await localTable());
    await step('open', () => webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')));

    github.pulls[0] = { number: 42, head: { sha: SHA_2 } };
    const push = await step('push', () =>
      webhook('pull_request', pullRequest('synchronize', SHA_2, '2026-11-22T12:00:00Z')),
    );

    expect(push).not.toContain('ELB:ModifyTargetGroup');
  });
});
