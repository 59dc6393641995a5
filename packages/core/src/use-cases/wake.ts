import { desire } from '../environment/desire.ts';
import { currentFailure, type Environment, type EnvironmentId } from '../environment/environment.ts';
import { awaitingApproval } from '../environment/policy.ts';
import type { Bus, Clock, EnvironmentStore, Logger } from '../ports.ts';
import { updateEnvironment } from './update.ts';

export interface WakeDeps {
  store: EnvironmentStore;
  bus: Bus;
  clock: Clock;
  log: Logger;
}

/**
 * A ready environment whose requests still reach the wake path has lost its host rule (or the ALB has not
 * applied a new one yet): a reconcile to put it back is asked for at most once this often, however many
 * page loads arrive.
 */
export const RULE_REPAIR_INTERVAL_SECONDS = 30;

/** How many past wakes are kept for the estimate. */
const WAKE_HISTORY = 5;
const DEFAULT_ESTIMATE_SECONDS = 60;

export type WakeState =
  | { kind: 'unknown' }
  | { kind: 'gone'; env: Environment }
  | { kind: 'skipped'; env: Environment; reason: string }
  | { kind: 'failed'; env: Environment; reason: string }
  | {
      kind: 'waking';
      env: Environment;
      startedAt: string;
      estimateSeconds: number;
      woke: boolean;
      note?: string;
    }
  | { kind: 'ready'; env: Environment };

/** Median of this environment's past wake durations; a default before the first one. */
export function wakeEstimateSeconds(env: Pick<Environment, 'wakes'>): number {
  const durations = env.wakes
    .filter((wake) => wake.readyAt)
    .map((wake) => (Date.parse(wake.readyAt as string) - Date.parse(wake.startedAt)) / 1000)
    .sort((a, b) => a - b);
  if (!durations.length) return DEFAULT_ESTIMATE_SECONDS;
  return Math.round(durations[Math.floor(durations.length / 2)] as number);
}

/** Where an environment stands from the point of view of someone opening its URL. */
export function wakeState(env: Environment, woke: boolean): WakeState {
  if (env.desired.phase === 'deleted') return { kind: 'gone', env };
  if (env.observed.phase === 'skipped')
    return { kind: 'skipped', env, reason: env.observed.reason ?? 'not deployed' };
  // Waking would start nothing: only a maintainer can let this commit run. Say so instead of spinning.
  const approval = awaitingApproval(env);
  if (approval) return { kind: 'skipped', env, reason: approval };
  const failure = currentFailure(env);
  if (failure) return { kind: 'failed', env, reason: failure.reason };
  if (env.desired.phase === 'running' && env.observed.phase === 'ready' && !woke)
    return { kind: 'ready', env };
  return {
    kind: 'waking',
    env,
    startedAt: env.wakes[0]?.readyAt ? env.desired.since : (env.wakes[0]?.startedAt ?? env.desired.since),
    estimateSeconds: wakeEstimateSeconds(env),
    woke,
    note: env.observed.note,
  };
}

/**
 * A request reached a host with no rule: the environment sleeps, is waking, or lost its rule. Wakes a
 * sleeping environment exactly once however many requests race here: the conditional write decides who
 * wakes it, and only that caller asks for a reconcile. A ready environment's lost rule is asked back the
 * same way, at most once per interval. The request that wins either write is recorded as activity.
 */
export async function wake(deps: WakeDeps, host: string): Promise<WakeState> {
  const found = await deps.store.getByHost(host);
  if (!found) return { kind: 'unknown' };
  const id: EnvironmentId = found.id;
  const now = deps.clock.now().toISOString();
  const { env, result } = await updateEnvironment<'woke' | 'repair' | 'none'>(deps.store, id, (current) => {
    if (!current) return { result: 'none' };
    const state = wakeState(current, false);
    if (state.kind === 'waking' && current.desired.phase === 'sleeping') {
      const next: Environment = {
        ...desire(current, { phase: 'running', reason: 'woken by a request' }, now),
        lastRequestAt: now,
        wakes: [{ startedAt: now }, ...current.wakes].slice(0, WAKE_HISTORY),
      };
      return { env: next, result: 'woke' };
    }
    const sinceLast = Date.parse(now) - (Date.parse(current.lastRequestAt ?? '') || 0);
    if (state.kind === 'ready' && sinceLast >= RULE_REPAIR_INTERVAL_SECONDS * 1000) {
      // The target group never saw this request, so it is activity only Matinee can record; its time, written
      // conditionally, also lets exactly one request per interval ask for the rule back.
      return { env: { ...current, lastRequestAt: now }, result: 'repair' };
    }
    return { result: 'none' };
  });
  if (!env) return { kind: 'unknown' };
  if (result === 'woke') {
    deps.log.info('waking environment', { id, host });
    // Reconcile makes room at capacity before it attaches the target group, and notes it for this page.
    await deps.bus.requestReconcile([id], 'woken by a request');
    return wakeState(env, true);
  }
  if (result === 'repair') {
    // Ready but the request still reached us: the host rule is missing. Reconcile puts it back.
    await deps.bus.requestReconcile([id], 'request reached the wake path while ready');
  }
  return wakeState(env, false);
}
