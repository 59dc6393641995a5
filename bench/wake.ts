import { MATINEE_EVENT_SOURCE, RECONCILE_REQUESTED } from '@matinee/aws';
import { reconcileRequested } from '../functions/reconcile.ts';
import { sweepIdle } from '../functions/sweep.ts';
import { pullRequest, SHA_1 } from '../test/support/aws-deployment.ts';
import { fakeDeployment } from './lib/platform.ts';
import type { Section } from './lib/report.ts';
import { summarize } from './lib/stats.ts';

/**
 * A request on a sleeping environment until ECS is asked to scale it up: the wake function (the wake
 * limits' two counters and the conditional write on DynamoDB Local, PutEvents), then the reconcile function on that event (read, describe on the
 * fake, UpdateService). EventBridge's own delivery latency is not included: it is AWS's, not ours.
 */
export async function wakeToScaleUp(endpoint: string, runs = 200): Promise<Section> {
  const { aws, github, d } = await fakeDeployment(endpoint);
  // One preview woken 220 times in a minute: the wake limits are measured here (their counters are part of
  // every wake), not hit.
  const often = { count: 500, windowSeconds: 600 };
  d.platform.limits = { perClient: often, perPreview: often, retriesPerPreview: often };
  const samples: number[] = [];
  try {
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-01-01T10:00:00Z')),
    );
    for (let i = -20; i < runs; i++) {
      d.clock.advance(2 * 3600_000);
      await d.step('sleep', () => sweepIdle(d.platform));
      const seen = aws.events.length;
      const started = performance.now();
      const page = await d.browse();
      if (page.statusCode !== 200) throw new Error(`wake answered ${page.statusCode}`);
      const entry = aws.events[seen];
      if (!entry) throw new Error('the wake asked for no reconcile');
      const before = aws.calls().length;
      await reconcileRequested(d.platform, {
        source: MATINEE_EVENT_SOURCE,
        'detail-type': RECONCILE_REQUESTED,
        detail: JSON.parse(entry.Detail ?? '{}'),
      });
      const elapsed = performance.now() - started;
      if (!aws.calls().slice(before).includes('ECS:UpdateService')) throw new Error('no scale-up was issued');
      if (i >= 0) samples.push(elapsed);
      await d.settle();
    }
  } finally {
    await github.stop();
  }
  const s = summarize(samples);
  return {
    title: 'Wake',
    intro: `${runs} wakes of one environment (after 20 warm-up), each from asleep.`,
    rows: [
      {
        what: 'request on a sleeping environment → UpdateService issued',
        summary: s,
        unit: 'ms',
        target: 'p99 ≤ 100 ms',
        met: s.p99 <= 100,
      },
    ],
  };
}
