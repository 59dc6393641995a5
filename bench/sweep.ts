import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { environmentId } from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import { sweepIdle } from '../functions/sweep.ts';
import { anEnvironment } from '../test/support/environments.ts';
import { benchPlatform, countReads } from './lib/platform.ts';
import type { Row, Section } from './lib/report.ts';

async function pool<T>(items: T[], width: number, run: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await run(items[next++] as T);
    }),
  );
}

/**
 * The scheduled sweep on a table of `total` environments of which `awake` are awake and idle for two
 * hours, so every awake one is a candidate and every one goes to sleep: the worst case. CloudWatch answers
 * no datapoints; EventBridge is faked.
 */
async function sweepOnce(endpoint: string, total: number, awake: number): Promise<Row[]> {
  const cloudwatch = mockClient(CloudWatchClient);
  const queriesPerCall: number[] = [];
  cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
    queriesPerCall.push(input.MetricDataQueries?.length ?? 0);
    return { MetricDataResults: [] };
  });
  const eventbridge = mockClient(EventBridgeClient);
  eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
  const { platform, dynamo } = await benchPlatform(endpoint);
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000).toISOString();
  const numbers = Array.from({ length: total }, (_, i) => i + 1);
  await pool(numbers, 32, async (n) => {
    const running = n <= awake;
    const env = anEnvironment({
      id: environmentId(`bench/repo${n % 20}`, n),
      desired: {
        phase: running ? 'running' : 'sleeping',
        sha: 'a'.repeat(40),
        reason: 'bench',
        since: twoHoursAgo,
      },
      observed: {
        phase: running ? 'ready' : 'sleeping',
        resources: {
          targetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/m-bench-${n}/${n.toString(16).padStart(16, '0')}`,
        },
        since: twoHoursAgo,
      },
      awakeSince: running ? twoHoursAgo : undefined,
      createdAt: twoHoursAgo,
      updatedAt: twoHoursAgo,
    });
    await platform.store.create(env, [`b${n}-pr${n}`], platform.settings.domain);
  });
  const reads = countReads(dynamo);
  const started = performance.now();
  const report = await sweepIdle(platform);
  const took = performance.now() - started;
  cloudwatch.restore();
  eventbridge.restore();
  if (report.slept.length !== awake) throw new Error(`slept ${report.slept.length} of ${awake}`);
  const label = `${total.toLocaleString('en')} environments, ${awake} awake`;
  const metricCalls = queriesPerCall.length;
  return [
    {
      what: `sweep wall time: ${label}`,
      value: took.toFixed(0),
      unit: 'ms',
      target: total >= 10_000 ? '≤ 2000 ms' : '—',
      met: total < 10_000 || took <= 2000,
      note: `all ${awake} put to sleep`,
    },
    {
      what: `DynamoDB items read: ${label}`,
      value: String(reads.items),
      unit: 'items',
      target: 'proportional to awake',
      // The index query reads the awake ones; each sleep re-reads its item before the conditional write.
      met: reads.items <= awake * 2 + 10,
      note: `${reads.calls} calls`,
    },
    {
      what: `GetMetricData calls: ${label}`,
      value: String(metricCalls),
      unit: 'calls',
      target: '≤ 1 per 500 awake',
      met: metricCalls <= Math.ceil(awake / 500),
      note: `${queriesPerCall.join(' + ')} queries`,
    },
  ];
}

export async function sweepScale(endpoint: string): Promise<Section> {
  const rows = [...(await sweepOnce(endpoint, 1000, 50)), ...(await sweepOnce(endpoint, 10_000, 500))];
  return {
    title: 'Sweep',
    intro:
      'functions/sweep.ts on DynamoDB Local. Every awake environment has been idle for two hours, so each is a candidate, is asked about in GetMetricData, and is put to sleep with a conditional write: the most work a sweep can do.',
    rows,
  };
}
