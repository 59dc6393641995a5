import { DEFAULT_PRICES, hourlyCost } from '@matinee/core';
import type { Section } from './lib/report.ts';

/**
 * 50 pull requests open for a whole month, each used 2 hours per working day. Always-on runs every task
 * 730 hours; Matinee runs it while used plus the idle timeout before the sweep puts it to sleep.
 */
export function costModel(): Section {
  const prs = 50;
  const hoursInMonth = 730;
  const workingDays = 22;
  const usedHours = 2;
  const idleHours = 1; // the default idle timeout, paid once per day of use
  const sweepEveryMinutes = 5; // the default schedule; a sleep lands at most this late
  const size = { cpu: 256, memory: 512 };
  const matineeHours = workingDays * (usedHours + idleHours + sweepEveryMinutes / 60);

  // Shared by both: one ALB (hour + about 1 LCU). Matinee's own: Lambda, DynamoDB, EventBridge, CloudWatch.
  const albMonth = hoursInMonth * (0.0225 + 0.008);
  const sweeps = (30 * 24 * 60) / sweepEveryMinutes;
  const getMetricDataMetrics = sweeps * prs * 0.2; // at most the awake ones are queried; 20% is generous
  const lambdaRequests = sweeps + 24 * 30 + prs * 200; // sweeps, resyncs, webhooks/reconciles/wakes
  const controlPlane =
    (lambdaRequests / 1e6) * 0.2 + // Lambda requests (arm64 compute at 128–512 MB is cents)
    lambdaRequests * 0.3 * 0.25 * 0.0000133334 + // 300 ms at 256 MB, per GB-second (arm64)
    (getMetricDataMetrics / 1000) * 0.01 + // CloudWatch GetMetricData
    ((prs * 200 * 3) / 1e6) * 1.25 + // DynamoDB writes on demand
    ((sweeps * prs * 0.2 + prs * 400) / 1e6) * 0.25; // DynamoDB reads on demand

  const rows: [string, number, number][] = [false, true].map((spot) => {
    const hourly = hourlyCost(size, spot);
    return [
      spot ? 'Fargate Spot' : 'Fargate on-demand',
      prs * hoursInMonth * hourly,
      prs * matineeHours * hourly,
    ];
  }) as [string, number, number][];
  const money = (n: number) => `$${n.toFixed(2)}`;
  const after = [
    `Assumptions: ${prs} pull requests open all month; each used ${usedHours} h on each of ${workingDays} working days; tasks of ${size.cpu / 1024} vCPU / ${size.memory / 1024} GB (the default size); Matinee keeps a task up ${usedHours} h + the ${idleHours} h idle timeout + up to ${sweepEveryMinutes} min until the sweep, i.e. ${matineeHours.toFixed(1)} h a month against ${hoursInMonth} h always on.`,
    '',
    '| Tasks on | Always on | Matinee | Saved |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map(
      ([label, always, matinee]) =>
        `| ${label} | ${money(always)} | ${money(matinee)} | ${(100 * (1 - matinee / always)).toFixed(0)}% |`,
    ),
    '',
    `Both need one shared ALB: about ${money(albMonth)} a month (hours plus ~1 LCU), not included above. Matinee's own control plane (Lambda, DynamoDB on demand, EventBridge, CloudWatch GetMetricData) comes to about ${money(controlPlane)} a month at this size.`,
    '',
    `Prices used (per hour, us-east-1, Linux/x86, the defaults in packages/core/src/environment/cost.ts): vCPU $${DEFAULT_PRICES.vcpuHour}, GB $${DEFAULT_PRICES.gbHour}; Spot vCPU $${DEFAULT_PRICES.spotVcpuHour}, GB $${DEFAULT_PRICES.spotGbHour}. Spot prices move; check your region's.`,
  ].join('\n');
  return { title: 'Cost model: 50 pull requests for a month', rows: [], after };
}
