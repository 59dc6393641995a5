import { desire } from '../environment/desire.ts';
import { currentFailure, type Environment, type EnvironmentId } from '../environment/environment.ts';
import { awaitingApproval } from '../environment/policy.ts';
import { clientKey } from '../limits/client-key.ts';
import { DEFAULT_WAKE_LIMITS, type RateLimit, type WakeLimits } from '../limits/rate-limit.ts';
import type { Bus, Clock, EnvironmentStore, Logger, RateLimiter } from '../ports.ts';
import { updateEnvironment } from './update.ts';

export interface WakeDeps {
  store: EnvironmentStore;
  bus: Bus;
  clock: Clock;
  log: Logger;
  /** Counts wakes per client and per preview (and retries): see `WakeLimits`. */
  limiter: RateLimiter;
  /** The stage's limits; `DEFAULT_WAKE_LIMITS` for any not given. */
  limits?: Partial<WakeLimits>;
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

/** What a request for a host did: as `WakeState`, or refused because it would wake too often. */
export type WakeOutcome = WakeState | { kind: 'limited'; env: Environment; retryAfterSeconds: number };

/**
 * Median of this environment's past wake durations; before the first, how long its first start took (an
 * app that starts in half a second is not said to take a minute); a default before even that.
 */
export function wakeEstimateSeconds(env: Pick<Environment, 'wakes' | 'firstStartSeconds'>): number {
  const durations = env.wakes
    .filter((wake) => wake.readyAt)
    .map((wake) => (Date.parse(wake.readyAt as string) - Date.parse(wake.startedAt)) / 1000)
    .sort((a, b) => a - b);
  if (!durations.length)
    return env.firstStartSeconds === undefined
      ? DEFAULT_ESTIMATE_SECONDS
      : Math.max(1, env.firstStartSeconds);
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
    note: env.observed.phase === 'building' ? buildNote(env) : env.observed.note,
  };
}

/**
 * The waking page's words while the commit's image is built (`build:`). Anyone with the link reads them:
 * they name no commit, branch or log.
 */
function buildNote(env: Environment): string {
  return env.build?.state === 'queued'
    ? 'Its image build is queued: it starts as soon as a build slot is free.'
    : 'Its image is being built from the pull request: a first build takes a few minutes, later ones reuse cached layers.';
}

/**
 * Counts a wake against the client's limit, then the preview's, and refuses it when either is spent; the
 * client's comes first, so a client over its own limit spends nothing of the preview's. The event counted
 * is this sleep of this environment (its stored version): the requests of a burst that all find it asleep
 * count once, whether they win the race to wake it or not.
 */
async function admitWake(
  deps: WakeDeps,
  env: Environment,
  client: string | undefined,
): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }> {
  const limits = { ...DEFAULT_WAKE_LIMITS, ...deps.limits };
  const event = `${env.id}@${env.version}`;
  const key = client === undefined ? undefined : clientKey(client);
  const checks: [string, RateLimit][] = [[`wake env ${env.id}`, limits.perPreview]];
  if (key) checks.unshift([`wake client ${key}`, limits.perClient]);
  for (const [name, limit] of checks) {
    const taken = await deps.limiter.take(name, event, limit.count, limit.windowSeconds);
    if (!taken.allowed) return { allowed: false, retryAfterSeconds: taken.retryAfterSeconds };
  }
  return { allowed: true };
}

/**
 * A request reached a host with no rule: the environment sleeps, is waking, or lost its rule. Wakes a
 * sleeping environment exactly once however many requests race here: the conditional write decides who
 * wakes it, and only that caller asks for a reconcile. A ready environment's lost rule is asked back the
 * same way, at most once per interval. The request that wins either write is recorded as activity.
 *
 * Only a request that would wake a sleeping environment counts against the limits (`client` is the
 * address it came from, as the load balancer saw it): over them, nothing is woken, so nothing is put to
 * sleep to make room either. Requests for an environment already waking, ready or failed never count, so
 * the waking page and its polling cost nothing.
 */
export async function wake(deps: WakeDeps, host: string, client?: string): Promise<WakeOutcome> {
  const found = await deps.store.getByHost(host);
  if (!found) return { kind: 'unknown' };
  const id: EnvironmentId = found.id;
  const now = deps.clock.now().toISOString();
  // Asked once, when a fresh read first finds the environment asleep; a lost race that reads again reuses it.
  let admission: ReturnType<typeof admitWake> | undefined;
  type Result = 'woke' | 'repair' | 'none' | { limited: number };
  const { env, result } = await updateEnvironment<Result>(deps.store, id, async (current) => {
    if (!current) return { result: 'none' };
    const state = wakeState(current, false);
    if (state.kind === 'waking' && current.desired.phase === 'sleeping') {
      admission ??= admitWake(deps, current, client);
      const admitted = await admission;
      if (!admitted.allowed) return { result: { limited: admitted.retryAfterSeconds } };
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
  if (typeof result === 'object') {
    deps.log.warn('wake refused: over the limit', { id, retryAfterSeconds: result.limited });
    return { kind: 'limited', env, retryAfterSeconds: result.limited };
  }
  if (result === 'woke') {
    deps.log.info(`${env.slug} woken by a request`, { id, host });
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
