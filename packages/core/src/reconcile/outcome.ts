import {
  currentFailure,
  type Environment,
  type ObservedPhase,
  type Resources,
} from '../environment/environment.ts';
import { afterReset } from '../volumes/reset.ts';
import { afterServing } from '../volumes/seed-once.ts';
import type { Decision } from './decide.ts';
import { isServing, type Observed, type Step, type Target } from './plan.ts';

/** How long a deleted environment's record is kept so that its URL answers 410 Gone. */
export const TOMBSTONE_DAYS = 30;

/** What a reconcile did, as `recordOutcome` writes it into the environment. */
export interface Outcome {
  decision: Decision;
  observed: Observed;
  steps: Step[];
  /** The resources that remain after the steps. */
  resources: Resources;
  /** How many environments were put to sleep to make room for this one. */
  evicted: number;
  capacity?: number;
  /** `/matinee reset-data` was carried out: asleep, volumes emptied. */
  resetting: boolean;
  now: string;
}

/** `env` as the steps left it: its observed phase, what it serves, its volumes' state, its tombstone. */
export function recordOutcome(env: Environment, outcome: Outcome): Environment {
  const { decision, observed, steps, resources, evicted, capacity, resetting, now } = outcome;
  const { target, skipped, waiting } = decision;
  const phase =
    decision.building && target.phase === 'hold'
      ? 'building'
      : phaseAfter(env, target, observed, steps, skipped);
  const served = phase === 'ready' && target.phase === 'running';
  const wakes = env.wakes.map((wake, index) =>
    index === 0 && served && !wake.readyAt ? { ...wake, readyAt: now } : wake,
  );
  // The waking page's estimate until a wake has been timed: how long the first start took, from when it
  // began starting (not from the pull request's opening, which may have waited for a build).
  const firstStartedAt = env.observed.phase === 'starting' ? env.observed.since : env.desired.since;
  const firstStartSeconds =
    env.firstStartSeconds ??
    (served && env.observed.phase !== 'ready'
      ? Math.max(0, Math.round((Date.parse(now) - Date.parse(firstStartedAt)) / 1000))
      : undefined);
  return {
    ...env,
    desired: { ...env.desired, configDigest: env.config?.status === 'ok' ? env.config.digest : undefined },
    observed: {
      phase,
      sha: served ? target.spec.sha : env.observed.sha,
      configDigest: served && env.config?.status === 'ok' ? env.config.digest : env.observed.configDigest,
      resources,
      reason: skipped ?? waiting,
      failure: currentFailure(env),
      crashes: env.observed.crashes?.sha === env.desired.sha ? env.observed.crashes : undefined,
      // Said on the waking page while this start lasts. Anyone with this preview's link reads it, so it names
      // no other preview: which ones went to sleep is in the log and on their own pull requests.
      note: evicted
        ? `Matinee is at its limit of ${capacity} awake previews, so another preview is put to sleep to make room.`
        : phase === 'starting'
          ? env.observed.note
          : undefined,
      since: phase === env.observed.phase ? env.observed.since : now,
    },
    wakes,
    ...(firstStartSeconds !== undefined && { firstStartSeconds }),
    volumes: resetting
      ? afterReset(env)
      : env.config?.status === 'ok'
        ? afterServing(env, env.config.value, served ? target.spec : undefined, now)
        : env.volumes,
    // A new commit ready (a push): the idle clock starts again, so a preview is not put to sleep just after it.
    servingSince: served && target.spec.sha !== env.observed.sha ? now : env.servingSince,
    expiresAt:
      phase === 'deleted' ? new Date(Date.parse(now) + TOMBSTONE_DAYS * 86_400_000).toISOString() : undefined,
  };
}

/**
 * `env` after a step failed with `message`: a problem the PR author can fix (`userFacing`) fails the commit;
 * anything else is recorded and retried by the bus.
 */
export function recordFailure(
  env: Environment,
  resources: Resources,
  message: string,
  userFacing: boolean,
  now: string,
): Environment {
  return {
    ...env,
    observed: {
      ...env.observed,
      // What the steps before the failing one made is recorded, never left behind unknown.
      resources,
      phase: userFacing ? 'failed' : env.observed.phase,
      failure: userFacing ? { sha: env.desired.sha, reason: message, at: now } : env.observed.failure,
      lastError: message,
      since: userFacing && env.observed.phase !== 'failed' ? now : env.observed.since,
    },
    updatedAt: now,
  };
}

function phaseAfter(
  env: Environment,
  target: Target,
  observed: Observed,
  steps: Step[],
  skipped?: string,
): ObservedPhase {
  if (target.phase === 'absent') return skipped ? 'skipped' : 'deleted';
  if (currentFailure(env)) return 'failed';
  if (target.phase === 'hold') return 'pending';
  if (target.phase === 'sleeping') return 'sleeping';
  return isServing(target, observed, steps) ? 'ready' : 'starting';
}
