import type { Environment } from '../environment/environment.ts';
import { type Observed, plan, type Step } from '../reconcile/plan.ts';

/** `/matinee reset-data` (or the dashboard's) was asked and not yet carried out. */
export function resetPending(env: Pick<Environment, 'desired' | 'volumes'>): boolean {
  return env.desired.phase !== 'deleted' && env.volumes?.reset !== undefined;
}

/**
 * A reset: the environment goes to sleep (no task may write while its data is deleted), then its volumes
 * are emptied. The next reconcile starts it again, with the seed, if it is wanted running.
 */
export function resetSteps(observed: Observed): Step[] {
  return [
    ...plan({ phase: 'sleeping' }, observed),
    ...(observed.volumes?.length ? [{ kind: 'emptyVolumes' } as const] : []),
  ];
}

/** The volume record once a reset is done: nothing seeded, nothing pending. */
export function afterReset(env: Pick<Environment, 'volumes'>): Environment['volumes'] {
  const { seeded: _, reset: __, ...rest } = env.volumes ?? {};
  return Object.keys(rest).length ? rest : undefined;
}
