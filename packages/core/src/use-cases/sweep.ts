import { formatDuration } from '../config/duration.ts';
import { desire } from '../environment/desire.ts';
import type { Environment, EnvironmentId } from '../environment/environment.ts';
import type { Activity, Bus, Clock, EnvironmentStore, Logger, Settings } from '../ports.ts';
import { environmentRef } from '../reconcile/reconcile.ts';
import { idleSeconds } from './idle.ts';
import { updateEnvironment } from './update.ts';

export interface SweepDeps {
  store: EnvironmentStore;
  activity: Activity;
  bus: Bus;
  clock: Clock;
  log: Logger;
  settings: Settings;
}

function latest(...times: (string | undefined)[]): number {
  return Math.max(0, ...times.filter((t): t is string => Boolean(t)).map((t) => Date.parse(t)));
}

export interface SweepReport {
  examined: number;
  slept: EnvironmentId[];
}

/**
 * Puts to sleep every awake environment that served no request during its idle window and was not woken
 * within it. Reads only awake environments, and asks for all their request counts in one call.
 */
export async function sweep(deps: SweepDeps): Promise<SweepReport> {
  const now = deps.clock.now();
  const awake = await deps.store.listAwake();
  // Only candidates whose own last activity is older than their idle window need metrics.
  const idleLongEnough = (env: Environment) =>
    latest(env.awakeSince, env.lastRequestAt, env.keepAwakeUntil) <= now.getTime() - idleSeconds(env) * 1000;
  const candidates = awake.filter(idleLongEnough);
  if (!candidates.length) return { examined: awake.length, slept: [] };
  // One activity query per distinct idle window (usually one): each environment is judged on its own window.
  const counts = new Map<EnvironmentId, number>();
  for (const idle of new Set(candidates.map(idleSeconds))) {
    const group = candidates.filter((env) => idleSeconds(env) === idle);
    const refs = group.map((env) => environmentRef(deps.settings, env));
    for (const [id, count] of await deps.activity.requestCounts(
      refs,
      new Date(now.getTime() - idle * 1000),
      now,
    )) {
      counts.set(id, count);
    }
  }
  const slept: EnvironmentId[] = [];
  for (const candidate of candidates) {
    if ((counts.get(candidate.id) ?? 0) > 0) continue;
    const stamp = now.toISOString();
    const { written } = await updateEnvironment(deps.store, candidate.id, (current) => {
      // Decide again on what is stored now: a wake or a push since the listing keeps it awake.
      if (current?.desired.phase !== 'running') return { result: undefined };
      if (!idleLongEnough(current)) return { result: undefined };
      return {
        env: desire(
          current,
          { phase: 'sleeping', reason: `idle for ${formatDuration(idleSeconds(current))}` },
          stamp,
        ),
        result: undefined,
      };
    });
    if (written) slept.push(candidate.id);
  }
  if (slept.length) {
    deps.log.info('putting idle environments to sleep', { ids: slept });
    await deps.bus.requestReconcile(slept, 'idle');
  }
  return { examined: awake.length, slept };
}
