import { environmentTagValue, MATINEE_EVENT_SOURCE, RECONCILE_REQUESTED } from '@matinee/aws';
import { TAG_ENVIRONMENT } from '@matinee/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resyncWithGithub } from '../../functions/resync.ts';
import { sweepIdle } from '../../functions/sweep.ts';
import { awsDeployment, HOST, ID, pullRequest, SHA_1, SHA_2, serveRepo } from '../support/aws-deployment.ts';
import { localTable } from '../support/dynamo.ts';
import { type FakeAws, fakeAws } from '../support/fake-aws.ts';
import { FakeGithub } from '../support/fake-github.ts';

/** Every Lambda handler through a whole life on fake AWS (see test/support/aws-deployment.ts). */
let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
});
afterEach(() => github.stop());

const deployment = async (aws: FakeAws) =>
  awsDeployment(aws, github, await localTable(), { print: Boolean(process.env.MATINEE_PRINT_AWS_CALLS) });

const writes = (calls: string[]) => calls.filter((call) => !/:(Describe|List|Get)/.test(call));

describe('a pull request environment on (fake) AWS, through every Lambda handler', () => {
  it('lives open → ready → idle → asleep → woken → pushed → closed, and leaves nothing behind', async () => {
    const aws = fakeAws();
    const { platform, clock, webhook, browse, step } = await deployment(aws);

    const open = await step('open → ready', () =>
      webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );
    const env = await platform.store.get(ID);
    expect(env?.observed.phase).toBe('ready');
    // The group exists (attached by a rule nobody matches) before the service; the rule goes live last.
    const at = (call: string) => open.indexOf(call);
    expect(at('ELB:CreateTargetGroup')).toBeGreaterThanOrEqual(0);
    expect(at('ELB:CreateTargetGroup')).toBeLessThan(at('ECS:CreateService'));
    expect(at('ECS:CreateService')).toBeLessThan(open.lastIndexOf('ELB:ModifyRule'));
    expect([...aws.rules.values()].some((rule) => JSON.stringify(rule.conditions).includes(HOST))).toBe(true);
    expect(github.comments).toHaveLength(1);
    expect(github.statuses.at(-1)).toMatchObject({ state: 'success', environment_url: `https://${HOST}` });

    clock.advance(2 * 3600_000);
    const sleep = await step('idle → asleep', () => sweepIdle(platform));
    expect((await platform.store.get(ID))?.observed.phase).toBe('sleeping');
    expect([...aws.services.values()][0]?.desiredCount).toBe(0);
    expect([...aws.rules.values()].some((rule) => JSON.stringify(rule.conditions).includes(HOST))).toBe(
      false,
    );
    expect(writes(sleep)).toEqual(expect.arrayContaining(['ELB:DeleteRule', 'ECS:UpdateService']));

    // A burst of 100 visitors on the sleeping link: exactly one wake.
    let pages: Awaited<ReturnType<typeof browse>>[] = [];
    const wake = await step('asleep → woken by 100 requests', async () => {
      pages = await Promise.all(Array.from({ length: 100 }, () => browse()));
    });
    expect(pages.every((page) => page.statusCode === 200 && page.body.includes('Waking up'))).toBe(true);
    expect(wake.filter((call) => call === 'ECS:UpdateService')).toHaveLength(1);
    expect((await platform.store.get(ID))?.observed.phase).toBe('ready');
    expect((await platform.store.get(ID))?.wakes).toHaveLength(1);

    github.pulls[0] = { number: 42, head: { sha: SHA_2 } };
    await step('push → new commit ready', () =>
      webhook('pull_request', pullRequest('synchronize', SHA_2, '2026-11-22T12:00:00Z')),
    );
    const pushed = await platform.store.get(ID);
    expect(pushed?.observed).toMatchObject({ phase: 'ready', sha: SHA_2 });
    // The rollout retired the first commit's revision: one active revision per family.
    expect(aws.taskDefinitions.map((td) => [td.revision, td.status])).toEqual([
      [1, 'INACTIVE'],
      [2, 'ACTIVE'],
    ]);

    github.pulls.splice(0);
    await step('close → removed', () =>
      webhook(
        'pull_request',
        pullRequest('closed', SHA_2, '2026-11-22T13:00:00Z', { state: 'closed', merged: true }),
      ),
    );
    expect((await platform.store.get(ID))?.observed.phase).toBe('deleted');
    expect(aws.tagged(TAG_ENVIRONMENT, environmentTagValue(ID))).toEqual([]);
    expect([...aws.services.values()].filter((service) => service.status === 'ACTIVE')).toEqual([]);
    expect(aws.targetGroups.size).toBe(0);
    expect([...aws.rules.values()].filter((rule) => JSON.stringify(rule.conditions).includes(HOST))).toEqual(
      [],
    );
    expect(aws.taskDefinitions.filter((td) => td.status === 'ACTIVE')).toEqual([]);
    expect(github.statuses.at(-1)).toMatchObject({ state: 'inactive' });

    const report = await resyncWithGithub(platform, { dryRun: true });
    expect(report.orphans).toEqual([]);
  });

  it('converges through throttling on every kind of AWS write, and still leaves nothing behind', async () => {
    const aws = fakeAws();
    const { platform, clock, webhook, browse, step } = await deployment(aws);
    const throttled = () =>
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      });
    const faulted = [
      'ELB:CreateTargetGroup',
      'ELB:CreateRule',
      'ECS:RegisterTaskDefinition',
      'ECS:CreateService',
      'ELB:ModifyRule',
      'ELB:DeleteRule',
      'ECS:UpdateService',
      'ECS:DeleteService',
      'ELB:DeleteTargetGroup',
      'ECS:DeregisterTaskDefinition',
    ];
    for (const call of faulted) aws.injectFault(call, throttled());

    await step('open', () => webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')));
    expect((await platform.store.get(ID))?.observed.phase).toBe('ready');
    clock.advance(2 * 3600_000);
    await step('sleep', () => sweepIdle(platform));
    expect((await platform.store.get(ID))?.observed.phase).toBe('sleeping');
    await step('wake', () => browse());
    expect((await platform.store.get(ID))?.observed.phase).toBe('ready');
    await step('close', () =>
      webhook('pull_request', pullRequest('closed', SHA_1, '2026-11-22T13:00:00Z', { state: 'closed' })),
    );

    expect((await platform.store.get(ID))?.observed.phase).toBe('deleted');
    expect(aws.tagged(TAG_ENVIRONMENT, environmentTagValue(ID))).toEqual([]);
    expect(aws.targetGroups.size).toBe(0);
    // Every fault was hit, and the call made again after it.
    for (const call of faulted) expect(aws.calls().filter((made) => made === call).length).toBeGreaterThan(1);
  });

  it('answers the ALB with 404 for unknown hosts and 410 once closed, to browsers and API clients alike', async () => {
    const aws = fakeAws();
    const { webhook, browse, settle } = await deployment(aws);

    expect((await browse({ host: 'nobody-pr1.preview.example.com' })).statusCode).toBe(404);
    await webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z'));
    await settle();
    await webhook('pull_request', pullRequest('closed', SHA_1, '2026-11-22T13:00:00Z', { state: 'closed' }));
    await settle();

    expect((await browse()).statusCode).toBe(410);
    expect((await browse({ accept: 'application/json' })).statusCode).toBe(410);
  });
});

// The fake speaks the same event names the stacks route on.
it('uses the event source and detail-type the EventBridge rule matches', () => {
  expect([MATINEE_EVENT_SOURCE, RECONCILE_REQUESTED]).toEqual(['matinee', 'environment.reconcile-requested']);
});
