import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { environmentId } from '@matinee/core';
import { receiveGithubWebhook } from '../../functions/github-webhook.ts';
import { inventoryPart, volumesPart } from '../../functions/lib/platform.ts';
import { readSettings } from '../../functions/lib/settings.ts';
import { reconcileRequested } from '../../functions/reconcile.ts';
import { taskStateChanged } from '../../functions/task-events.ts';
import { serveDefaultRule } from '../../functions/wake.ts';
import { allParts } from './all-parts.ts';
import type { AwsCallRecorder } from './aws-call-recorder.ts';
import { WEB_CONFIG } from './configs.ts';
import type { FakeAws } from './fake-aws.ts';
import type { FakeEfs } from './fake-efs.ts';
import type { FakeGithub } from './fake-github.ts';
import { ManualClock, MemoryLogger } from './fakes.ts';
import { albEvent, eventBridgeEvent, functionUrlEvent } from './lambda-events.ts';
import { links } from './stage.ts';
import { delivery, example } from './webhooks.ts';

/**
 * The whole AWS side in one process: every Lambda handler, called with the events AWS would send it, over
 * one stateful fake of ECS, ELBv2, CloudWatch, EventBridge and the tagging API, with the store on the given
 * DynamoDB table and GitHub's API served over HTTP by a stand-in. EventBridge events are delivered to the
 * reconcile function and ECS task state changes to the task-events function, as the rules in stacks/ route
 * them. Used by the lifecycle tests and the benchmarks.
 */
export const SECRET = 'webhook-secret';
export const REPO = 'acme/web';
export const ID = environmentId(REPO, 42);
export const HOST = 'fix-login-pr42.preview.example.com';
export const SHA_1 = '1'.repeat(40);
export const SHA_2 = '2'.repeat(40);

/** GitHub as the stand-in should answer for REPO#42 at SHA_1 and SHA_2. */
export function serveRepo(github: FakeGithub): void {
  github.files.set(`${REPO}@${SHA_1}:.matinee.yml`, WEB_CONFIG);
  github.files.set(`${REPO}@${SHA_2}:.matinee.yml`, WEB_CONFIG);
  github.pulls.push({ number: 42, head: { sha: SHA_1 } });
}

export function awsDeployment(
  aws: FakeAws,
  github: FakeGithub,
  table: { client: DynamoDBDocumentClient; tableName: string },
  options: { print?: boolean; recorder?: AwsCallRecorder; efs?: FakeEfs } = {},
) {
  const { client, tableName } = table;
  // Each handler's calls are recorded as that function's, for the IAM simulation (test/infra/iam-simulated.test.ts).
  const { recorder } = options;
  recorder?.attach(...Object.values(aws.clients), client);
  const { efs } = options;
  if (efs) recorder?.attach(efs.clients.efs, efs.clients.lambda, efs.clients.iam);
  const as: As = (name, fn) => (recorder ? recorder.as(name, fn) : fn());
  const config = stageConfig(github, { table: tableName, bus: aws.config.busName }, (settings) => ({
    ...settings,
    cluster: { name: 'matinee-test', arn: aws.config.cluster },
    loadBalancer: { fullName: aws.config.loadBalancerFullName, listenerArn: aws.config.listenerArn },
    network: { ...settings.network, vpcId: aws.config.vpcId },
    ...(efs && {
      volumes: {
        fileSystemId: efs.fileSystemId,
        janitorFunction: efs.janitorFunction,
        roleBoundaryArn: efs.roleBoundaryArn,
      },
    }),
  }));
  const clock = new ManualClock(new Date());
  const parts = allParts(config, { ...aws.clients, dynamo: client }, new MemoryLogger());
  // With volumes: access points on the fake EFS, the janitor's directories among what resync collects.
  const volumes = efs ? volumesPart(config, efs.clients) : {};
  const inventory = volumes.volumes
    ? inventoryPart(config, aws.clients, volumes.volumes).inventory
    : parts.inventory;
  const platform = { ...parts, ...volumes, inventory, clock };

  const taskEvent = (...args: Parameters<typeof taskStateChanged>) =>
    as('task-events', () => taskStateChanged(...args));
  let delivered = 0;
  const reported = new Set<string>();
  /** EventBridge → reconcile function; ECS → task-events function; until nothing more happens. */
  async function settle(): Promise<void> {
    for (let round = 0; round < 50; round++) {
      const pending = aws.events.slice(delivered);
      delivered = aws.events.length;
      for (const entry of pending) {
        const event = eventBridgeEvent(
          entry.Source ?? '',
          entry.DetailType ?? '',
          JSON.parse(entry.Detail ?? '{}'),
        );
        // Throttled again and again: Lambda's async retries, then the next reconcile request or the resync.
        await deliverReconcile(platform, as, event, 10);
      }
      aws.tick();
      let changes = 0;
      for (const service of aws.services.values()) {
        // ECS reports a service that runs what it should, every task passing the ALB's checks, once per
        // such state: the only word that targets turned healthy (task events do not say it).
        const running = service.tasks.filter((task) => task.lastStatus === 'RUNNING');
        const steady =
          service.status === 'ACTIVE' &&
          service.desiredCount > 0 &&
          running.length === service.desiredCount &&
          running.every((task) => task.health === 'healthy');
        const steadyKey = `${service.arn} steady ${running.map((task) => task.arn).join(',')}`;
        if (steady && !reported.has(steadyKey)) {
          reported.add(steadyKey);
          changes++;
          await taskEvent(
            platform,
            eventBridgeEvent(
              'aws.ecs',
              'ECS Service Action',
              {
                eventType: 'INFO',
                eventName: 'SERVICE_STEADY_STATE',
                clusterArn: aws.config.cluster,
                createdAt: new Date().toISOString(),
              },
              [service.arn],
            ),
          );
        }
        for (const task of service.tasks) {
          // Task state changes are about the task's own status; its health behind the ALB is not in them.
          // The rule in stacks/ lets only STOPPED ones through.
          const key = `${task.arn} ${task.lastStatus}`;
          if (task.lastStatus !== 'STOPPED' || reported.has(key)) continue;
          reported.add(key);
          changes++;
          await taskEvent(
            platform,
            eventBridgeEvent(
              'aws.ecs',
              'ECS Task State Change',
              {
                clusterArn: aws.config.cluster,
                group: `service:${service.name}`,
                taskArn: task.arn,
                taskDefinitionArn: task.taskDefinitionArn,
                lastStatus: task.lastStatus,
                desiredStatus: task.lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
                launchType: 'FARGATE',
                ...(task.lastStatus === 'STOPPED' ? { stopCode: 'ServiceSchedulerInitiated' } : {}),
              },
              [task.arn],
            ),
          );
        }
      }
      if (!pending.length && !changes && aws.events.length === delivered) return;
    }
    throw new Error('the fake cloud did not settle in 50 rounds');
  }

  return { platform, clock, settle, ...stageDriver(platform, as, settle, () => aws.calls(), options.print) };
}

type Platform = Parameters<typeof receiveGithubWebhook>[0] &
  Parameters<typeof serveDefaultRule>[0] &
  Parameters<typeof reconcileRequested>[0];
/** Runs `fn` as the function `name` (for the IAM simulation's recording). */
export type As = <T>(name: string, fn: () => Promise<T>) => Promise<T>;

/** The `test` stage's configuration as its functions read it, on `table` and `bus`, with `settings` changed. */
export function stageConfig(
  github: FakeGithub,
  names: { table: string; bus: string },
  settings: (linked: LinkedSettings) => LinkedSettings,
) {
  const linked = links({ webhookSecret: SECRET, githubApiUrl: github.url });
  linked.MatineeTable.name = names.table;
  linked.MatineeBus.name = names.bus;
  linked.MatineeSettings = settings(linked.MatineeSettings);
  return readSettings(linked, { github: true, webhookSecret: true, dashboardPassword: true });
}
type LinkedSettings = ReturnType<typeof links>['MatineeSettings'];

/** Hands a reconcile event to the reconcile function, again while it throws, as Lambda's asynchronous retries do. */
export async function deliverReconcile(
  platform: Platform,
  as: As,
  event: unknown,
  attempts: number,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await as('reconcile', () => reconcileRequested(platform, event));
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}

/**
 * Driving a stage through its handlers, whatever cloud is beneath them: a signed webhook delivery, a browser
 * at HOST, and a step that returns the AWS calls (of `calls`) it caused, all the way to a settled stage.
 */
export function stageDriver(
  platform: Platform,
  as: As,
  settle: () => Promise<void>,
  calls: () => string[],
  print?: boolean,
) {
  const webhook = async (event: string, payload: unknown) => {
    const signed = await delivery(event, payload, { secret: SECRET });
    const response = await as('github-webhook', () =>
      receiveGithubWebhook(platform, functionUrlEvent({ headers: signed.headers, body: signed.body })),
    );
    if (response.statusCode !== 200)
      throw new Error(`webhook answered ${response.statusCode}: ${response.body}`);
    return response;
  };
  const browse = (headers: Record<string, string> = {}) =>
    as('wake', () =>
      serveDefaultRule(platform, albEvent({ headers: { host: HOST, accept: 'text/html', ...headers } })),
    );
  async function step(name: string, act: () => Promise<unknown>): Promise<string[]> {
    const before = calls().length;
    await act();
    await settle();
    const caused = calls().slice(before);
    if (print) console.log(`${name}: ${caused.length} AWS calls\n  ${caused.join('\n  ')}`);
    return caused;
  }
  return { webhook, browse, step };
}

/** A pull_request delivery for REPO#42 on branch fix-login, adapted from GitHub's own example. */
export function pullRequest(
  action: string,
  sha: string,
  updatedAt: string,
  extra: Record<string, unknown> = {},
) {
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
