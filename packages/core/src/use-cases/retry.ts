import { desire } from '../environment/desire.ts';
import { currentFailure, type Environment, type EnvironmentId } from '../environment/environment.ts';
import { DEFAULT_WAKE_LIMITS, type WakeLimits } from '../limits/rate-limit.ts';
import type { Bus, Clock, EnvironmentStore, RateLimiter } from '../ports.ts';
import { updateEnvironment } from './update.ts';

/**
 * Tries a failed commit again (the failed page's retry button). As a new deployment: the revision gets
 * a new redeploy count, so the service rolls out a task definition of its own (UpdateService with
 * forceNewDeployment). Scaling the failed one up again would not do: ECS's circuit breaker failed that
 * deployment (rollback is off) and would not try it afresh.
 */
export async function retryFailed(
  deps: { store: EnvironmentStore; bus: Bus; clock: Clock },
  id: EnvironmentId,
): Promise<boolean> {
  const now = deps.clock.now().toISOString();
  const { written } = await updateEnvironment(deps.store, id, (current) => {
    if (!retryable(current)) return { result: undefined };
    return {
      env: {
        ...desire(current, { phase: 'running', reason: 'retry' }, now),
        deployNonce: (current.deployNonce ?? 0) + 1,
        observed: {
          ...current.observed,
          failure: undefined,
          crashes: undefined,
          phase: 'pending',
          since: now,
        },
      },
      result: undefined,
    };
  });
  if (written) await deps.bus.requestReconcile([id], 'retry');
  return written;
}

function retryable(env: Environment | undefined): env is Environment {
  return Boolean(env && currentFailure(env) && env.desired.phase !== 'deleted');
}

/**
 * The failed page's *Try again*, which anyone with the link can press: a retry starts a task, so it is
 * limited per environment (`retriesPerPreview`). Only a press that would retry counts, and a double
 * submit of the same failure counts once.
 */
export async function retryFromLink(
  deps: {
    store: EnvironmentStore;
    bus: Bus;
    clock: Clock;
    limiter: RateLimiter;
    limits?: Partial<WakeLimits>;
  },
  env: Environment,
): Promise<{ retried: boolean } | { limited: number }> {
  if (!retryable(env)) return { retried: false };
  const limit = deps.limits?.retriesPerPreview ?? DEFAULT_WAKE_LIMITS.retriesPerPreview;
  const taken = await deps.limiter.take(
    `retry env ${env.id}`,
    `${env.id}@${env.version}`,
    limit.count,
    limit.windowSeconds,
  );
  if (!taken.allowed) return { limited: taken.retryAfterSeconds };
  return { retried: await retryFailed(deps, env.id) };
}
