import type { Environment } from '../environment/environment.ts';

export const DEFAULT_IDLE_SECONDS = 3600;

/** The environment's idle timeout from its `.matinee.yml`, or the default. */
export function idleSeconds(env: Pick<Environment, 'config'>): number {
  return env.config?.status === 'ok' ? env.config.value.idle : DEFAULT_IDLE_SECONDS;
}
