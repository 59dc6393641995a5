import { formatDuration } from '../config/duration.ts';
import { desire } from '../environment/desire.ts';
import type { Environment, EnvironmentId } from '../environment/environment.ts';
import type { Activity, Bus, Clock, EnvironmentStore, Logger, RequestActivity, Settings } from '../ports.ts';
import { environmentRef } from '../reconcile/environment-ref.ts';
import { idleSeconds, lastActive } from './idle.ts';
import { updateEnvironment } from './update.ts';

export interface SweepDeps {
  store: EnvironmentStore;
  activity: Activity;
  bus: Bus;
  clock: Clock;
  log: Logger;
  settings: Settings;
}

/**
 * An environment starting for longer than this is looked at again. Fargate starts a task within a couple of
 * minutes; past that, the event that should have moved it on (ECS's steady state) was probably lost.
 */
export const STALLED_START_MS = 3 * 60_000;

/** Sleep decisions written in parallel; DynamoDB takes far more, this keeps a burst polite. */
const SLEEP_WRITES_AT_ONCE = 16;

async function eachLimited<T>(items: T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

function latest(...times: (string | undefined)[]): number {
  return Math.max(0, ...times.filter((t): t is string => Boolean(t)).map((t) => Date.parse(t)));
}

export interface SweepReport {
  examined: number;
  slept: EnvironmentId[];
  /** Environments starting for too long: a reconcile is asked for again. */
  nudged: EnvironmentId[];
}

/**
 * Puts to sleep every awake environment that served no request during its idle window and was not woken
 * within it. Reads only awake environments, and asks for all their request counts in one call.
 */
export async function sweep(deps: SweepDeps): Promise<SweepReport> {
  const now = deps.clock.now();
  const awake = await deps.store.listAwake();
  const nudged = await nudgeStalled(deps, awake, now);
  // Only candidates whose own last activity is older than their idle window need metrics.
  const idleLongEnough = (env: Environment) => lastActive(env) <= now.getTime() - idleSeconds(env) * 1000;
  const candidates = awake.filter(idleLongEnough);
  if (!candidates.length) return { examined: awake.length, slept: [], nudged };
  // One activity query per distinct idle window (usually one): each environment is judged on its own window.
  const activity = new Map<EnvironmentId, RequestActivity>();
  for (const idle of new Set(candidates.map(idleSeconds))) {
    const group = candidates.filter((env) => idleSeconds(env) === idle);
    const refs = group.map((env) => environmentRef(deps.settings, env));
    const since = new Date(now.getTime() - idle * 1000);
    for (const [id, seen] of await deps.activity.requestActivity(refs, since, now)) activity.set(id, seen);
  }
  const slept: EnvironmentId[] = [];
  const idle = candidates.filter((candidate) => (activity.get(candidate.id)?.count ?? 0) === 0);
  // Independent conditional writes, a few at a time: the sweep's time grows with awake environments / width.
  await eachLimited(candidates, SLEEP_WRITES_AT_ONCE, async (candidate) => {
    const lastAt = activity.get(candidate.id)?.lastAt;
    if (!lastAt || (activity.get(candidate.id)?.count ?? 0) === 0) return;
    // In use: what the load balancer counted becomes the recorded last request, so the pull request and the
    // dashboard say when it really sleeps, and it is not asked about again before its window has passed.
    await updateEnvironment(
      deps.store,
      candidate.id,
      (current) =>
        current && latest(current.lastRequestAt) < lastAt.getTime()
          ? { env: { ...current, lastRequestAt: lastAt.toISOString() }, result: undefined }
          : { result: undefined },
      { read: candidate },
    );
  });
  await eachLimited(idle, SLEEP_WRITES_AT_ONCE, async (candidate) => {
    const stamp = now.toISOString();
    const { written } = await updateEnvironment(
      deps.store,
      candidate.id,
      (current) => {
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
      },
      { read: candidate },
    );
    if (written) slept.push(candidate.id);
  });
  // Reported in listing order (least recently active first), whatever order the writes finished in.
  const order = new Map(idle.map((candidate, index) => [candidate.id, index]));
  slept.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  if (slept.length) {
    deps.log.debug('putting idle environments to sleep', { ids: slept });
    await deps.bus.requestReconcile(slept, 'idle');
  }
  return { examined: awake.length, slept, nudged };
}

/**
 * The sweep already holds every awake environment, so it is the cheap safety net for one whose start
 * stalled between events (a lost steady-state event, a reconcile that died): ask for a reconcile again.
 */
async function nudgeStalled(deps: SweepDeps, awake: Environment[], now: Date): Promise<EnvironmentId[]> {
  const stalled = awake
    .filter(
      (env) =>
        env.desired.phase === 'running' &&
        (env.observed.phase === 'starting' || env.observed.phase === 'pending') &&
        Date.parse(env.observed.since) <= now.getTime() - STALLED_START_MS,
    )
    .map((env) => env.id);
  if (stalled.length) await deps.bus.requestReconcile(stalled, 'still starting');
  return stalled;
}
