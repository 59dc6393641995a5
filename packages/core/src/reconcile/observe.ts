import type { Resources } from '../environment/environment.ts';
import type { EnvironmentRef } from '../ports.ts';
import type { ReconcileDeps } from './deps.ts';
import type { Observed } from './plan.ts';

/** What the runtime, router and volumes hold of `ref` now. */
export async function observe(
  deps: Pick<ReconcileDeps, 'runtime' | 'router' | 'volumes'>,
  ref: EnvironmentRef,
): Promise<Observed> {
  const [runtime, router, volumes] = await Promise.all([
    deps.runtime.describe(ref),
    deps.router.describe(ref),
    deps.volumes?.describe(ref),
  ]);
  return {
    service: runtime.service,
    revisions: runtime.revisions,
    targetGroupArn: router.targetGroupArn,
    ruleArn: router.ruleArn,
    warming: router.warming,
    health: router.health,
    ruleAccess: router.access,
    ...(volumes?.length ? { volumes } : {}),
    healthCheck: router.healthCheck,
  };
}

/** What `observe` found, as the environment records it. */
export function observedResources(observed: Observed): Resources {
  return {
    taskDefinitionArn: observed.service?.taskDefinitionArn,
    serviceArn: observed.service?.serviceArn,
    targetGroupArn: observed.targetGroupArn,
    ruleArn: observed.ruleArn,
  };
}
