import type { DesiredPhase, Environment } from './environment.ts';

/**
 * `env` wanting `phase` from `now` on: the one way desired state changes. Keeps the awake-time books
 * (`awakeSince`, `awakeSeconds`) that the sweep and the cost estimate read.
 */
export function desire(
  env: Environment,
  change: { phase: DesiredPhase; reason: string; sha?: string },
  now: string,
): Environment {
  const wasAwake = env.desired.phase === 'running';
  const awake = change.phase === 'running';
  const sha = change.sha ?? env.desired.sha;
  let awakeSeconds = env.awakeSeconds ?? 0;
  if (wasAwake && !awake && env.awakeSince) {
    awakeSeconds += Math.max(0, (Date.parse(now) - Date.parse(env.awakeSince)) / 1000);
  }
  return {
    ...env,
    desired: {
      phase: change.phase,
      sha,
      configDigest: sha === env.desired.sha ? env.desired.configDigest : undefined,
      reason: change.reason,
      since: now,
    },
    awakeSince: awake && !wasAwake ? now : env.awakeSince,
    awakeSeconds: Math.round(awakeSeconds),
    // Spot may have room again by the next wake.
    spotUnavailableAt: awake ? env.spotUnavailableAt : undefined,
    updatedAt: now,
  };
}

/** Seconds the environment has been awake in all, up to `now`. */
export function awakeSecondsUntil(
  env: Pick<Environment, 'desired' | 'awakeSince' | 'awakeSeconds'>,
  now: Date,
): number {
  const running =
    env.desired.phase === 'running' && env.awakeSince
      ? (now.getTime() - Date.parse(env.awakeSince)) / 1000
      : 0;
  return (env.awakeSeconds ?? 0) + Math.max(0, running);
}
