import type { EnvironmentRef } from '../ports.ts';
import type { ReconcileDeps } from './deps.ts';
import { execute } from './execute.ts';
import { observe, observedResources } from './observe.ts';
import { plan, type Step } from './plan.ts';

/** Removes every resource of `ref`, whether or not an environment record still exists for it. */
export async function teardown(
  deps: Pick<ReconcileDeps, 'runtime' | 'router' | 'log' | 'volumes' | 'builder'>,
  ref: EnvironmentRef,
): Promise<Step[]> {
  const observed = await observe(deps, ref);
  const steps = plan({ phase: 'absent' }, observed);
  await deps.builder?.removeImages?.(ref);
  // An orphan may be data alone (its volumes' handles gone, a directory left): removed all the same, as
  // removing what is absent is done.
  if (deps.volumes && !steps.some((step) => step.kind === 'removeVolumes'))
    steps.push({ kind: 'removeVolumes' });
  await execute(deps, ref, { phase: 'absent' }, observed, steps, observedResources(observed));
  return steps;
}
