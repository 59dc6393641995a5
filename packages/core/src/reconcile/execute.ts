import type { Resources } from '../environment/environment.ts';
import { UserError } from '../errors.ts';
import type { EnvironmentRef } from '../ports.ts';
import { attachVolumes } from '../volumes/task-volumes.ts';
import type { ReconcileDeps } from './deps.ts';
import type { Observed, Step, Target } from './plan.ts';

/**
 * Runs the steps in order, carrying ARNs from one step to the next in `resources` (updated as each step
 * succeeds, so a failing step leaves in it what the earlier ones made); returns the resources that remain.
 */
export async function execute(
  deps: Pick<ReconcileDeps, 'runtime' | 'router' | 'log' | 'volumes'>,
  ref: EnvironmentRef,
  target: Target,
  observed: Observed,
  steps: Step[],
  resources: Resources,
): Promise<Resources> {
  let spec = target.phase === 'running' ? target.spec : undefined;
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined && what === 'volumes') noVolumes();
    if (value === undefined) throw new Error(`reconcile step needs ${what}, which no earlier step provided`);
    return value;
  };
  for (const step of steps) {
    deps.log.debug('reconcile step', { id: ref.id, step: step.kind });
    switch (step.kind) {
      case 'ensureTargetGroup': {
        const { port, healthPath } = need(spec, 'a running target');
        resources.targetGroupArn = (
          await deps.router.ensureTargetGroup(ref, { port, healthPath })
        ).targetGroupArn;
        break;
      }
      case 'updateTargetGroup': {
        const { port, healthPath } = need(spec, 'a running target');
        await deps.router.updateTargetGroup(ref, need(resources.targetGroupArn, 'a target group'), {
          port,
          healthPath,
        });
        break;
      }
      case 'registerRevision':
        resources.taskDefinitionArn = (
          await deps.runtime.registerRevision(ref, need(spec, 'a running target'))
        ).taskDefinitionArn;
        break;
      case 'ensureService':
        resources.serviceArn = (
          await deps.runtime.ensureService(ref, {
            taskDefinitionArn: need(resources.taskDefinitionArn, 'a task definition'),
            targetGroupArn: need(resources.targetGroupArn, 'a target group'),
            desiredCount: step.desiredCount,
            spec: need(spec, 'a running target'),
          })
        ).serviceArn;
        break;
      case 'scaleService':
        await deps.runtime.scaleService(ref, step.desiredCount);
        break;
      case 'ensureRule':
        resources.ruleArn = (
          await deps.router.ensureRule(
            ref,
            need(resources.targetGroupArn, 'a target group'),
            target.phase === 'running' ? target.access : undefined,
          )
        ).ruleArn;
        break;
      case 'removeRule':
        await deps.router.removeRule(ref);
        resources.ruleArn = undefined;
        break;
      case 'deleteService':
        await deps.runtime.deleteService(ref);
        resources.serviceArn = undefined;
        break;
      case 'deleteTargetGroup':
        await deps.router.deleteTargetGroup(ref);
        resources.targetGroupArn = undefined;
        break;
      case 'deregisterRevisions':
        await deps.runtime.deregisterRevisions(ref);
        resources.taskDefinitionArn = undefined;
        break;
      case 'ensureVolumes': {
        const volumes = need(deps.volumes, 'volumes');
        const running = need(spec, 'a running target');
        spec = attachVolumes(running, await volumes.ensure(ref, running.volumes ?? []));
        break;
      }
      case 'emptyVolumes':
        await need(deps.volumes, 'volumes').empty(
          ref,
          (observed.volumes ?? []).map((volume) => volume.name),
        );
        break;
      case 'removeVolumes':
        await need(deps.volumes, 'volumes').remove(ref);
        break;
    }
  }
  return resources;
}

function noVolumes(): never {
  throw new UserError(
    '.matinee.yml declares `volumes`, which this Matinee deployment cannot provide yet: remove them, or upgrade Matinee',
  );
}
