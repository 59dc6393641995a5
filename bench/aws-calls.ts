import { sweepIdle } from '../functions/sweep.ts';
import { pullRequest, SHA_1, SHA_2 } from '../test/support/aws-deployment.ts';
import { fakeDeployment } from './lib/platform.ts';
import type { Row, Section } from './lib/report.ts';

const isWrite = (call: string) => !/:(Describe|List|Get)/.test(call);

/** One life through every handler on the stateful fake AWS, counting the AWS calls each step causes. */
export async function awsCalls(endpoint: string): Promise<Section> {
  const { github, d } = await fakeDeployment(endpoint);
  const steps: [string, string[], number][] = [];
  try {
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
  } finally {
    await github.stop();
  }
  const rows: Row[] = steps.flatMap(([what, calls, target]) => {
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
  });
  return {
    title: 'AWS calls per lifecycle step',
    intro:
      'Counted on the stateful fake of ECS, ELBv2, CloudWatch, EventBridge and the tagging API (test/support/fake-aws.ts), through every Lambda handler, from the triggering event until nothing more happens (every EventBridge event delivered, and ECS’s stopped-task and service steady-state events, which are what the rules in stacks/ route). "Writes" are calls that change something (EventBridge PutEvents included); "all calls" adds the describes each reconcile makes before planning.',
    rows,
    after: [
      'Where these miss, and why:',
      '',
      '- **All calls.** Every reconcile first describes what exists (service, task definitions, target group, rules, target health) rather than trusting what it recorded, and a step takes two reconciles (the request, then the service turning steady once its targets are healthy). That is what lets a reconcile converge after a crash at any point or a change made by hand; describes cost nothing on AWS. A recorded target group is already asked for its health directly, and a running service is taken to hold its revision, which saved a lookup and a list on every reconcile; trusting more of the record is the next optimisation.',
      "- **Wake: 5 writes, target 3.** The ALB health-checks only a target group that a listener rule forwards to, and a sleeping environment holds no rule (so it does not count against the ALB's 100 target groups). Waking therefore creates a never-matching rule before scaling up and switches it live once targets are healthy (CreateRule, UpdateService, ModifyRule), plus two PutEvents: the wake itself and the service turning steady.",
      '- **Push and close.** A push retires the revision it replaces as it rolls out (one DeregisterTaskDefinition: the circuit breaker does not roll back, so nothing needs it again), which leaves a close one revision to deregister before DeleteTaskDefinitions removes them all.',
    ].join('\n'),
  };
}
