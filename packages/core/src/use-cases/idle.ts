import type { Environment } from '../environment/environment.ts';

export const DEFAULT_IDLE_SECONDS = 3600;

/** The environment's idle timeout from its `.matinee.yml`, or the default. */
export function idleSeconds(env: Pick<Environment, 'config'>): number {
  return env.config?.status === 'ok' ? env.config.value.idle : DEFAULT_IDLE_SECONDS;
}

/**
 * When the environment was last in use, in ms: woken, served a request, a new commit became ready, or kept
 * awake until. The sweep, the pull request's "sleeps at" and the dashboard count its idle time from here.
 */
export function lastActive(
  env: Pick<Environment, 'awakeSince' | 'lastRequestAt' | 'servingSince' | 'keepAwakeUntil'>,
): number {
  return Math.max(
    0,
    ...[env.awakeSince, env.lastRequestAt, env.servingSince, env.keepAwakeUntil].map(
      (t) => Date.parse(t ?? '') || 0,
    ),
  );
}
