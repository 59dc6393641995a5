import type { Task } from './local-task.ts';

export interface HealthCheckOptions {
  /** The app's health check, on its loopback port. */
  url: string;
  /** Checked this often until the first pass. */
  intervalMs: number;
  /** Then this often. */
  healthyIntervalMs: number;
  /** This many failed checks in a row once healthy stop the task. */
  unhealthyThreshold: number;
  /** Not healthy this long after it started: stopped. */
  startTimeoutMs: number;
  /** The first check that passes. */
  onHealthy: () => void;
  /** The task failed its checks, and why: the caller stops it. */
  onFailed: (reason: string) => void;
}

/**
 * Health checks for the life of the task, as the ALB's: frequent until the first pass, then at a calmer
 * pace. An app that never passes within the start timeout, or fails several checks in a row once healthy,
 * is handed to `onFailed` (and checked no more), so the restart back-off and the failure count apply.
 * Sets `task.healthy` and keeps its pending check in `task.timer`.
 */
export function watchHealth(task: Task, options: HealthCheckOptions): void {
  const { url, startTimeoutMs, unhealthyThreshold } = options;
  const startedAt = Date.now();
  let failures = 0;
  let checking = false;
  /** The last check's result in words, for the failure's reason. */
  let last = 'never checked';
  const fail = (reason: string) => {
    task.healthy = false;
    clearTimeout(task.timer);
    options.onFailed(reason);
  };
  const check = async () => {
    if (task.stopping || task.failure || checking) return;
    checking = true;
    let passed = false;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      passed = response.ok;
      last = `answered HTTP ${response.status}`;
      await response.body?.cancel();
    } catch (error) {
      // Not listening (yet), or too slow: what the failure will say.
      last =
        (error as Error).name === 'TimeoutError'
          ? 'did not answer within 1 s'
          : 'refused the connection (nothing listening on PORT?)';
    } finally {
      checking = false;
    }
    if (task.stopping || task.failure) return;
    if (passed) {
      failures = 0;
      if (!task.healthy) {
        task.healthy = true;
        options.onHealthy();
      }
    } else if (task.healthy && ++failures >= unhealthyThreshold) {
      return fail(`app failed ${failures} health checks in a row (${url}); last check: ${last}`);
    } else if (!task.healthy && Date.now() - startedAt > startTimeoutMs) {
      return fail(
        `app did not pass its health check (${url}) within ${Math.round(startTimeoutMs / 1000)}s; last check: ${last}`,
      );
    }
    schedule();
  };
  const schedule = () => {
    task.timer = setTimeout(check, task.healthy ? options.healthyIntervalMs : options.intervalMs);
    task.timer.unref();
  };
  schedule();
}
