import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { Activity, EnvironmentId, EnvironmentRef } from '@matinee/core';
import { aws } from './errors.ts';

export interface CloudWatchActivityOptions {
  cloudwatch: CloudWatchClient;
  /** The ALB's `app/<name>/<id>` (the end of its ARN), CloudWatch's `LoadBalancer` dimension. */
  loadBalancerFullName: string;
}

/** GetMetricData takes at most this many queries per call. */
const QUERIES_PER_CALL = 500;

/** `arn:…:targetgroup/<name>/<id>` → `targetgroup/<name>/<id>`, CloudWatch's `TargetGroup` dimension. */
export function targetGroupDimension(targetGroupArn: string): string | undefined {
  return /(targetgroup\/[^/]+\/[0-9a-f]+)$/.exec(targetGroupArn)?.[1];
}

/**
 * The `Activity` on CloudWatch: `RequestCount` of each environment's target group behind the shared ALB,
 * summed over the window. Only refs that recorded a target group are asked about; the rest served nothing.
 */
export class CloudWatchActivity implements Activity {
  private readonly options: CloudWatchActivityOptions;

  constructor(options: CloudWatchActivityOptions) {
    this.options = options;
  }

  async requestCounts(refs: EnvironmentRef[], since: Date, until: Date): Promise<Map<EnvironmentId, number>> {
    const counts = new Map<EnvironmentId, number>(refs.map((ref) => [ref.id, 0]));
    // One period spanning the window (CloudWatch wants whole minutes); values of every period returned add up.
    const seconds = Math.max(1, Math.ceil((until.getTime() - since.getTime()) / 1000));
    const period = Math.ceil(seconds / 60) * 60;
    const asked = refs.flatMap((ref) => {
      const dimension = ref.known.targetGroupArn && targetGroupDimension(ref.known.targetGroupArn);
      return dimension ? [{ id: ref.id, dimension }] : [];
    });
    for (let start = 0; start < asked.length; start += QUERIES_PER_CALL) {
      const batch = asked.slice(start, start + QUERIES_PER_CALL);
      // Query ids must match ^[a-z][a-zA-Z0-9_]*$: environment ids do not, so they are numbered.
      const byQuery = new Map(batch.map((entry, index) => [`q${index}`, entry.id]));
      const queries: MetricDataQuery[] = batch.map((entry, index) => ({
        Id: `q${index}`,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/ApplicationELB',
            MetricName: 'RequestCount',
            Dimensions: [
              { Name: 'TargetGroup', Value: entry.dimension },
              { Name: 'LoadBalancer', Value: this.options.loadBalancerFullName },
            ],
          },
          Period: period,
          Stat: 'Sum',
        },
        ReturnData: true,
      }));
      let nextToken: string | undefined;
      do {
        const page = await aws('GetMetricData RequestCount', () =>
          this.options.cloudwatch.send(
            new GetMetricDataCommand({
              MetricDataQueries: queries,
              StartTime: since,
              EndTime: until,
              NextToken: nextToken,
            }),
          ),
        );
        for (const result of page.MetricDataResults ?? []) {
          const id = result.Id && byQuery.get(result.Id);
          if (!id) continue;
          const sum = (result.Values ?? []).reduce((total, value) => total + value, 0);
          counts.set(id, (counts.get(id) ?? 0) + sum);
        }
        nextToken = page.NextToken;
      } while (nextToken);
    }
    return counts;
  }
}
