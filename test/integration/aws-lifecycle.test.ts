import { environmentTagValue, MATINEE_EVENT_SOURCE, RECONCILE_REQUESTED } from '@matinee/aws';
import { environmentId, TAG_ENVIRONMENT } from '@matinee/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { receiveGithubWebhook } from '../../functions/github-webhook.ts';
import { readSettings } from '../../functions/lib/settings.ts';
import { reconcileRequested } from '../../functions/reconcile.ts';
import { resyncWithGithub } from '../../functions/resync.ts';
import { sweepIdle } from '../../functions/sweep.ts';
import { taskStateChanged } from '../../functions/task-events.ts';
import { serveDefaultRule } from '../../functions/wake.ts';
import { allParts } from '../support/all-parts.ts';
import { WEB_CONFIG } from '../support/configs.ts';
import { localTable } from '../support/dynamo.ts';
import { type FakeAws, fakeAws } from '../support/fake-aws.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { ManualClock, MemoryLogger } from '../support/fakes.ts';
import { links } from '../support/stage.ts';
import { delivery, example } from '../support/webhooks.ts';

/**
 * The whole AWS side in one process: every Lambda handler, called with the events AWS would send it, over
 * one stateful fake of ECS, ELBv2, CloudWatch, EventBridge and the tagging API, with the store on DynamoDB
 * Local and GitHub's API served over HTTP by a stand-in. EventBridge events are delivered to the reconcile
 * function and ECS task state changes to the task-events function, as the rules in stacks/ route them.
 */
const SECRET = 'webhook-secret';
const REPO = 'acme/web';
const ID = environmentId(REPO, 42);
const HOST = 'fix-login-pr42.preview.example.com';
const SHA_1 = '1'.repeat(40);
const SHA_2 = '2'.repeat(40);
const VERBOSE = Boolean(process.env.MATINEE_PRINT_AWS_CALLS);

let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  github.files.set(`${REPO}@${SHA_1}:.matinee.yml`, WEB_CONFIG);
  github.files.set(`${REPO}@${SHA_2}:.matinee.yml`, WEB_CONFIG);
  github.pulls.push({ number: 42, head: { sha: SHA_1 } });
});
afterEach(() => github.stop());

async function deployment(aws: FakeAws) {
  const { client, tableName } = await localTable();
  const linked = links({ webhookSecret: SECRET, githubApiUrl: github.url });
  linked.MatineeTable.name = tableName;
  linked.MatineeBus.name = aws.config.busName;
  Object.assign(linked.MatineeSettings, {
    cluster: { name: 'matinee-test', arn: aws.config.cluster },
    loadBalancer: { fullName: aws.config.loadBalancerFullName, listenerArn: aws.config.listenerArn },
    network: { ...linked.MatineeSettings.network, vpcId: aws.config.vpcId },
  });
  const config = readSettings(linked, { github: true, webhookSecret: true, dashboardPassword: true });
  const clock = new ManualClock(new Date());
  const platform = { ...allParts(config, { ...aws.clients, dynamo: client }, new MemoryLogger()), clock };

  let delivered = 0;
  const reported = new Set<string>();
  /** EventBridge → reconcile function; ECS → task-events function; until nothing more happens. */
  async function settle(): Promise<void> {
    for (let round = 0; round < 50; round++) {
      const pending = aws.events.slice(delivered);
      delivered = aws.events.length;
      for (const entry of pending) {
        const event = {
          source: entry.Source,
          'detail-type': entry.DetailType,
          detail: JSON.parse(entry.Detail ?? '{}'),
        };
        // An event whose handler threw (throttling) is delivered again: Lambda's async retries, then the
        // next reconcile request or the hourly resync.
        for (let attempt = 1; ; attempt++) {
          try {
            await reconcileRequested(platform, event);
            break;
          } catch (error) {
            if (attempt >= 10) throw error;
          }
        }
      }
      aws.tick();
      let changes = 0;
      for (const service of aws.services.values()) {
        for (const task of service.tasks) {
          const key = `${task.arn} ${task.lastStatus} ${task.health}`;
          if (reported.has(key)) continue;
          reported.add(key);
          changes++;
          await taskStateChanged(platform, {
            source: 'aws.ecs',
            'detail-type': 'ECS Task State Change',
            detail: {
              clusterArn: aws.config.cluster,
              group: `service:${service.name}`,
              taskDefinitionArn: task.taskDefinitionArn,
              lastStatus: task.lastStatus,
              desiredStatus: task.lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
              ...(task.lastStatus === 'STOPPED' ? { stopCode: 'ServiceSchedulerInitiated' } : {}),
            },
          });
        }
      }
      if (!pending.length && !changes && aws.events.length === delivered) return;
    }
    throw new Error('the fake cloud did not settle in 50 rounds');
  }

  const webhook = async (event: string, payload: unknown) => {
    const signed = await delivery(event, payload, { secret: SECRET });
    const response = await receiveGithubWebhook(platform, {
      headers: signed.headers,
      body: signed.body,
      isBase64Encoded: false,
    });
    expect(response.statusCode).toBe(200);
  };
  const browse = (headers: Record<string, string> = {}) =>
    serveDefaultRule(platform, {
      requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:::targetgroup/wake/1' } },
      httpMethod: 'GET',
      path: '/',
      headers: { host: HOST, accept: 'text/html', ...headers },
      body: '',
      isBase64Encoded: false,
    });

  /** The AWS calls `act` caused, all the way to a settled cloud. */
  async function step(name: string, act: () => Promise<unknown>): Promise<string[]> {
    const before = aws.calls().length;
    await act();
    await settle();
    const calls = aws.calls().slice(before);
    if (VERBOSE) console.log(`${name}: ${calls.length} AWS calls\n  ${calls.join('\n  ')}`);
    return calls;
  }
  return { platform, clock, settle, webhook, browse, step };
}

function pullRequest(action: string, sha: string, updatedAt: string, extra: Record<string, unknown> = {}) {
  const payload = example('pull_request', action === 'synchronize' ? 'synchronize' : 'opened');
  payload.action = action;
  payload.number = 42;
  payload.repository.full_name = REPO;
  Object.assign(payload.pull_request, {
    number: 42,
    state: 'open',
    draft: false,
    updated_at: updatedAt,
    labels: [],
    head: { ...payload.pull_request.head, ref: 'fix-login', sha, repo: { full_name: REPO } },
    base: { ...payload.pull_request.base, repo: { full_name: REPO } },
    ...extra,
  });
  return payload;
}

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
    expect(aws.taskDefinitions.filter((td) => td.status === 'ACTIVE')).toHaveLength(2);

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
