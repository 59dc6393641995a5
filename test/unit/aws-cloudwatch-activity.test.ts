import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchActivity } from '@matinee/aws';
import { type EnvironmentRef, environmentId, environmentRef, TransientError } from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';

const LB = 'app/matinee-test/50dc6c495c0c9188';
const SINCE = new Date('2026-11-02T09:00:00Z');
const tgArn = (n: number) =>
  `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/mt-pr${n}-x/${n.toString(16).padStart(16, '0')}`;

function ref(number: number, withTargetGroup = true): EnvironmentRef {
  return environmentRef(
    { stage: 'test', domain: 'preview.example.com' },
    {
      id: environmentId('acme/web', number),
      slug: `pr${number}`,
      host: `pr${number}.preview.example.com`,
      observed: { resources: withTargetGroup ? { targetGroupArn: tgArn(number) } : {} },
    },
  );
}

function setup() {
  const cloudwatch = new CloudWatchClient({ region: 'eu-west-1' });
  const mock = mockClient(cloudwatch);
  return { mock, activity: new CloudWatchActivity({ cloudwatch, loadBalancerFullName: LB }) };
}

describe('CloudWatchActivity', () => {
  it("sums RequestCount of each environment's target group behind the ALB per minute, and says when the last was", async () => {
    const { mock, activity } = setup();
    const minute = (n: number) => new Date(SINCE.getTime() + n * 60_000);
    // CloudWatch answers newest first, each timestamp the start of its minute.
    mock.on(GetMetricDataCommand).resolves({
      MetricDataResults: [{ Id: 'q0', Values: [0, 4, 3], Timestamps: [minute(50), minute(41), minute(7)] }],
    });
    const until = new Date(SINCE.getTime() + 3601_000);

    const seen = await activity.requestActivity([ref(42)], SINCE, until);

    expect(seen).toEqual(new Map([[environmentId('acme/web', 42), { count: 7, lastAt: minute(42) }]]));
    expect(mock.commandCalls(GetMetricDataCommand)[0]?.args[0].input).toEqual({
      MetricDataQueries: [
        {
          Id: 'q0',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/ApplicationELB',
              MetricName: 'RequestCount',
              Dimensions: [
                { Name: 'TargetGroup', Value: 'targetgroup/mt-pr42-x/000000000000002a' },
                { Name: 'LoadBalancer', Value: LB },
              ],
            },
            Period: 60,
            Stat: 'Sum',
          },
          ReturnData: true,
        },
      ],
      StartTime: SINCE,
      EndTime: until,
      NextToken: undefined,
    });
  });

  it('counts environments without a target group, or without datapoints, as zero', async () => {
    const { mock, activity } = setup();
    mock.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'q0', Values: [] }] });

    const seen = await activity.requestActivity(
      [ref(1), ref(2, false)],
      SINCE,
      new Date(SINCE.getTime() + 60_000),
    );

    expect(seen).toEqual(
      new Map([
        [environmentId('acme/web', 1), { count: 0 }],
        [environmentId('acme/web', 2), { count: 0 }],
      ]),
    );
    expect(mock.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries).toHaveLength(1);
  });

  it('asks nothing when no environment has a target group', async () => {
    const { mock, activity } = setup();

    await activity.requestActivity([ref(1, false)], SINCE, new Date());

    expect(mock.calls()).toHaveLength(0);
  });

  it('asks about 500 target groups per call', async () => {
    const { mock, activity } = setup();
    mock.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: { Id: string }[] }) => ({
      MetricDataResults: input.MetricDataQueries.map(({ Id }) => ({ Id, Values: [1] })),
    }));
    const refs = Array.from({ length: 1200 }, (_, i) => ref(i + 1));

    const seen = await activity.requestActivity(refs, SINCE, new Date(SINCE.getTime() + 3_600_000));

    const calls = mock
      .commandCalls(GetMetricDataCommand)
      .map((call) => call.args[0].input.MetricDataQueries ?? []);
    expect(calls.map((queries) => queries.length)).toEqual([500, 500, 200]);
    expect(calls[1]?.[499]?.Id).toBe('q499');
    expect([...seen.values()].every(({ count }) => count === 1)).toBe(true);
    expect(seen.size).toBe(1200);
  });

  it('follows NextToken until the results end', async () => {
    const { mock, activity } = setup();
    mock
      .on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'q0', Values: [2] }], NextToken: 'more' })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'q0', Values: [5] },
          { Id: 'q1', Values: [1] },
        ],
      });

    const seen = await activity.requestActivity([ref(1), ref(2)], SINCE, new Date(SINCE.getTime() + 120_000));

    expect(mock.commandCalls(GetMetricDataCommand)[1]?.args[0].input.NextToken).toBe('more');
    expect(seen.get(environmentId('acme/web', 1))?.count).toBe(7);
    expect(seen.get(environmentId('acme/web', 2))?.count).toBe(1);
  });

  it('turns throttling into a TransientError', async () => {
    const { mock, activity } = setup();
    mock
      .on(GetMetricDataCommand)
      .rejects(
        Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }),
      );

    await expect(activity.requestActivity([ref(1)], SINCE, new Date())).rejects.toBeInstanceOf(
      TransientError,
    );
  });

  it('keeps to 100 intervals an environment over a long window, so 500 of them fit one answer', async () => {
    const { mock, activity } = setup();
    mock.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });

    await activity.requestActivity([ref(1)], SINCE, new Date(SINCE.getTime() + 24 * 3_600_000));

    expect(
      mock.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries?.[0]?.MetricStat?.Period,
    ).toBe(900);
  });
});
