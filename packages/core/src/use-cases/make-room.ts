import { desire } from '../environment/desire.ts';
import { countsAsAwake, type Environment } from '../environment/environment.ts';
import { MatineeError } from '../errors.ts';
import { MAX_AWAKE, MAX_AWAKE_REASON } from '../limits/alb.ts';
import type { Bus, Clock, EnvironmentStore, Logger } from '../ports.ts';
import { updateEnvironment } from './update.ts';

function lastActive(env: Environment): number {
  return Math.max(Date.parse(env.lastRequestAt ?? '') || 0, Date.parse(env.awakeSince ?? '') || 0);
}

/**
 * Puts the least recently used awake environments to sleep until `woken` fits under the capacity; returns
 * their hosts. Reconcile calls it before it attaches a target group, the one step that takes a place on
 * the load balancer, so no path (a request, a push, a command, a retry, a build) takes the ALB past its
 * 100 target groups; the environment records who went to sleep for it, which its waking page shows. Safe
 * to call for an environment already counted: it is never counted twice.
 */
export async function makeRoom(
  deps: { store: EnvironmentStore; bus: Bus; clock: Clock; log: Logger; capacity?: number },
  woken: Environment,
): Promise<string[]> {
  if (!deps.capacity) return [];
  if (deps.capacity > MAX_AWAKE)
    throw new MatineeError(
      `a capacity of ${deps.capacity} awake previews cannot be held: ${MAX_AWAKE_REASON}`,
    );
  // Counted by the same rule as the index: a store may list more (items written before the rule, fakes).
  const others = (await deps.store.listAwake()).filter((env) => env.id !== woken.id && countsAsAwake(env));
  const excess = others.length + 1 - deps.capacity;
  if (excess <= 0) return [];
  const now = deps.clock.now().toISOString();
  const evicted: Environment[] = [];
  for (const candidate of others.sort((a, b) => lastActive(a) - lastActive(b)).slice(0, excess)) {
    const { written } = await updateEnvironment(deps.store, candidate.id, (current) =>
      current && countsAsAwake(current)
        ? {
            env: desire(current, { phase: 'sleeping', reason: `made room for ${woken.host}` }, now),
            result: undefined,
          }
        : { result: undefined },
    );
    if (written) evicted.push(candidate);
  }
  if (evicted.length) {
    deps.log.info('at capacity: putting the least recently used to sleep', {
      for: woken.id,
      capacity: deps.capacity,
      ids: evicted.map((env) => env.id),
    });
    await deps.bus.requestReconcile(
      evicted.map((env) => env.id),
      `made room for ${woken.host}`,
    );
  }
  return evicted.map((env) => env.host);
}
