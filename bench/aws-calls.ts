import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTable, documentClient } from '@matinee/aws';
import { sweepIdle } from '../functions/sweep.ts';
import { motoLife } from '../test/emulator/support/moto-life.ts';
import { INSTALL_MOTO, motoAvailable, startMotoServer } from '../test/emulator/support/moto-server.ts';
import { pullRequest, SHA_1, SHA_2, serveRepo } from '../test/support/aws-deployment.ts';
import { FakeGithub } from '../test/support/fake-github.ts';
import { fakeDeployment } from './lib/platform.ts';
import type { Row, Section } from './lib/report.ts';

const isWrite = (call: string) => !/:(Describe|List|Get|BatchGet)/.test(call);

/** A step's writes (listed) and all its calls, each against the step's target for writes. */
export function callRows(what: string, calls: string[], target: number): Row[] {
  const writes = calls.filter(isWrite);
  return [
    {
      what: `${what}: writes`,
      value: String(writes.length),
      unit: 'calls',
      target: `≤ ${target}`,
      met: writes.length <= target,
      note: writes.join(', '),
    },
    {
      what: `${what}: all calls`,
      value: String(calls.length),
      unit: 'calls',
      target: `≤ ${target}`,
      met: calls.length <= target,
      note: `${calls.length - writes.length} describes/lists/gets`,
    },
  ];
}

/** What a life needs of a deployment: the fake's (test/support/aws-deployment.ts) or moto's (moto-life.ts). */
interface Life {
  step(name: string, act: () => Promise<unknown>): Promise<string[]>;
  webhook(event: string, payload: unknown): Promise<unknown>;
  browse(): Promise<unknown>;
  clock: { advance(ms: number): void };
  platform: Parameters<typeof sweepIdle>[0];
}

/** The steps of one life, each with the AWS calls it caused and its target for writes. */
async function life(d: Life, github: FakeGithub): Promise<[string, string[], number][]> {
  const steps: [string, string[], number][] = [];
  steps.push([
    'open → ready',
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-01-01T10:00:00Z')),
    ),
    8,
  ]);
  d.clock.advance(2 * 3600_000);
  steps.push(['sleep', await d.step('sleep', () => sweepIdle(d.platform)), 3]);
  steps.push(['wake', await d.step('wake', () => d.browse()), 3]);
  github.pulls[0] = { number: 42, head: { sha: SHA_2 } };
  steps.push([
    'push',
    await d.step('push', () =>
      d.webhook('pull_request', pullRequest('synchronize', SHA_2, '2026-01-01T12:00:00Z')),
    ),
    5,
  ]);
  github.pulls.splice(0);
  steps.push([
    'close',
    await d.step('close', () =>
      d.webhook('pull_request', pullRequest('closed', SHA_2, '2026-01-01T13:00:00Z', { state: 'closed' })),
    ),
    6,
  ]);
  return steps;
}

/** The same life on moto's server (started here, stopped after), or why not. */
async function onMoto(endpoint: string): Promise<[string, string[], number][] | string> {
  if (!motoAvailable()) return INSTALL_MOTO;
  const moto = await startMotoServer();
  const github = await new FakeGithub().start();
  serveRepo(github);
  try {
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    const tableName = `matinee-bench-${randomUUID()}`;
    const admin = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
    await createTable(admin, tableName);
    admin.destroy();
    const client = documentClient({ endpoint, region: 'us-east-1', credentials });
    const d = await motoLife(github, { endpoint: moto.endpoint, table: { tableName, client } });
    return await life(d, github);
  } finally {
    await github.stop();
    moto.stop();
  }
}

/**
 * One life through every handler on the stateful fake AWS and again on moto's server, counting the AWS calls
 * each step causes on each.
 */
export async function awsCalls(endpoint: string): Promise<Section> {
  const { github, d } = await fakeDeployment(endpoint);
  let steps: [string, string[], number][];
  try {
    steps = await life(d, github);
  } finally {
    await github.stop();
  }
  const moto = await onMoto(endpoint);
  const rowsOf = (where: string, list: [string, string[], number][]): Row[] =>
    list.flatMap(([what, calls, target]) => callRows(`${what}, ${where}`, calls, target));
  const rows = [...rowsOf('fake', steps), ...(typeof moto === 'string' ? [] : rowsOf('moto', moto))];
  return {
    title: 'AWS calls per lifecycle step',
    intro: [
      'Counted twice, through every Lambda handler, from the triggering event until nothing more happens (every EventBridge event delivered, and ECS’s stopped-task and service steady-state events, which are what the rules in stacks/ route): on the stateful fake of ECS, ELBv2, CloudWatch, EventBridge and the tagging API (test/support/fake-aws.ts), and on moto’s server (test/emulator/support/moto-life.ts: moto’s ECS runs no tasks, so the emulator suite’s stand-in runs them and emits their events, as test/emulator/README.md describes). "Writes" are calls that change something (EventBridge PutEvents included); "all calls" adds the describes each reconcile makes before planning.',
      typeof moto === 'string'
        ? `Not counted on moto here: ${moto}.`
        : 'Where the two differ, moto answered differently from the fake: the AWS call counts to trust are moto’s.',
    ].join(' '),
    rows,
    after: [
      'Where these miss, and why:',
      '',
      '- **All calls.** Every reconcile first describes what exists (service, task definitions, target group, rules, target health) rather than trusting what it recorded, and a step takes two reconciles (the request, then the service turning steady once its targets are healthy). That is what lets a reconcile converge after a crash at any point or a change made by hand; describes cost nothing on AWS. A recorded target group is already asked for its health directly, and a running service is taken to hold its revision, which saved a lookup and a list on every reconcile; trusting more of the record is the next optimisation.',
      "- **Wake: 5 writes, target 3.** The ALB health-checks only a target group that a listener rule forwards to, and a sleeping environment holds no rule (so it does not count against the ALB's 100 target groups). Waking therefore creates a never-matching rule before scaling up and switches it live once targets are healthy (CreateRule, UpdateService, ModifyRule), plus two PutEvents: the wake itself and the service turning steady.",
      '- **Open and close: two more lists than before.** Until every live preview has been torn down once, a close also lists the legacy task definition family (`matinee-<stage>-<slug>`, before families took `_`), active and inactive, and so does the open of an environment that has no service yet; see packages/aws/src/ecs-task-definitions.ts.',
      '- **Close on moto: one more list.** The stage on moto has its build project, as every deployed stage does, and a close removes the environment’s built images whatever its config: one ECR ListImages, finding none here. The fake deployment wires no image builder.',
      '- **Push and close.** A push retires the revision it replaces as it rolls out (one DeregisterTaskDefinition: the circuit breaker does not roll back, so nothing needs it again), which leaves a close one revision to deregister before DeleteTaskDefinitions removes them all.',
    ].join('\n'),
  };
}
