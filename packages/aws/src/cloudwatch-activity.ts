import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { Activity, EnvironmentId, EnvironmentRef, RequestActivity } from '@matinee/core';
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

/** Intervals asked for per environment at most: one call covers 500 environments (GetMetricData returns 100 800 points). */
const POINTS_PER_QUERY = 100;

/**
 * The `Activity` on CloudWatch: `RequestCount` of each environment's target group behind the shared ALB,
 * summed over the window, and the end of the last interval that had any. Intervals are whole minutes (one
 * for windows up to 100 minutes, longer ones keep to 100 intervals). Only refs that recorded a target group
 * are asked about; the rest served nothing.
 */
export class CloudWatchActivity implements Activity {
  private readonly options: CloudWatchActivityOptions;

  constructor(options: CloudWatchActivityOptions) {
    this.options = options;
  }

  async requestActivity(
    refs: EnvironmentRef[],
    since: Date,
    until: Date,
  ): Promise<Map<EnvironmentId, RequestActivity>> {
    const activity = new Map<EnvironmentId, RequestActivity>(refs.map((ref) => [ref.id, { count: 0 }]));
    const seconds = Math.max(1, Math.ceil((until.getTime() - since.getTime()) / 1000));
    const period = Math.max(1, Math.ceil(seconds / 60 / POINTS_PER_QUERY)) * 60;
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
        // Values of every page add up; a timestamp is the start of its interval.
        for (const result of page.MetricDataResults ?? []) {
          const id = result.Id && byQuery.get(result.Id);
          const seen = id && activity.get(id);
          if (!seen) continue;
          (result.Values ?? []).forEach((value, index) => {
            seen.count += value;
            const at = result.Timestamps?.[index];
            if (value <= 0 || !at) return;
            const end = new Date(Math.min(at.getTime() + period * 1000, until.getTime()));
            if (!seen.lastAt || end > seen.lastAt) seen.lastAt = end;
          });
        }
        nextToken = page.NextToken;
      } while (nextToken);
    }
    return activity;
  }
}
