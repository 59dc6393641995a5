import type {
  HealthCheckState,
  RuleAccess,
  ServiceState,
  TargetHealth,
  TaskSpec,
  VolumeHandle,
} from '../ports.ts';
import { volumesMissing } from '../volumes/task-volumes.ts';

/** What the cloud should hold for an environment. */
export type Target =
  /** `access`: the cookie its host rule requires (private previews); none for a public one. */
  | { phase: 'running'; spec: TaskSpec; access?: RuleAccess }
  /** Service at 0 tasks, no host rule; the target group and task definitions stay for a quick wake. */
  | { phase: 'sleeping' }
  /** Nothing at all. */
  | { phase: 'absent' }
  /** Leave everything as it is (waiting for the commit's image to be built). */
  | { phase: 'hold' };

/** What the cloud holds, as described by the runtime and router just before planning. */
export interface Observed {
  service?: ServiceState;
  /** Registered task definition revisions of the environment: 0 when none remain, at least 1 while a service runs one. */
  revisions: number;
  targetGroupArn?: string;
  ruleArn?: string;
  /** A not-yet-live rule attaches the target group (see Router.describe). */
  warming?: boolean;
  /** The cookie condition the live rule holds. */
  ruleAccess?: RuleAccess;
  health: TargetHealth;
  /** The environment's volumes that exist (see Volumes). */
  volumes?: VolumeHandle[];
  /** The target group's health check, when the router reports it. */
  healthCheck?: HealthCheckState;
}

export type Step =
  | { kind: 'ensureTargetGroup' }
  | { kind: 'updateTargetGroup' }
  | { kind: 'registerRevision' }
  | { kind: 'ensureService'; desiredCount: number }
  | { kind: 'scaleService'; desiredCount: number }
  | { kind: 'ensureRule' }
  | { kind: 'removeRule' }
  | { kind: 'deleteService' }
  | { kind: 'deleteTargetGroup' }
  | { kind: 'deregisterRevisions' }
  /** Volumes: made before the task that mounts them, emptied by a reset, removed after the service. */
  | { kind: 'ensureVolumes' }
  | { kind: 'emptyVolumes' }
  | { kind: 'removeVolumes' };

export function sameRuleAccess(a: RuleAccess | undefined, b: RuleAccess | undefined): boolean {
  return a?.cookieName === b?.cookieName && a?.secret === b?.secret;
}

/**
 * The smallest ordered list of idempotent steps that moves `observed` to `target`. Pure. Each step is safe
 * to repeat, so a run cut short anywhere is finished by the next one.
 *
 * Order matters where AWS has dependencies: the target group exists before the service that registers
 * into it; the host rule is added only once targets are healthy (nobody sees a 502 from an empty group) and
 * removed before the service stops; the target group is deleted after the rule and the service that use it.
 */
export function plan(target: Target, observed: Observed): Step[] {
  switch (target.phase) {
    case 'hold':
      return [];
    case 'running': {
      const steps: Step[] = [];
      const current = observed.service?.revision === target.spec.revision;
      // A missing volume leaves the revision pending (see attachVolumes), so a task definition follows. Every
      // new revision with volumes ensures them first: a changed owner or a stale identity is put right before
      // a task definition names them.
      if (volumesMissing(target.spec) || (!current && target.spec.volumes?.length))
        steps.push({ kind: 'ensureVolumes' });
      const scaleUp = current && observed.service?.desiredCount !== 1;
      // The load balancer health-checks (and ECS accepts) only a target group a listener rule forwards to,
      // and a sleeping environment's group is detached: ensureTargetGroup (re)attaches it before tasks start.
      if (!observed.targetGroupArn || (!observed.ruleArn && (!current || scaleUp)))
        steps.push({ kind: 'ensureTargetGroup' });
      // A changed health check (`app.health`) reaches the group before the tasks it would judge start.
      const check = observed.healthCheck;
      if (observed.targetGroupArn && check && (check.path !== target.spec.healthPath || !check.standard))
        steps.push({ kind: 'updateTargetGroup' });
      if (!current) {
        steps.push({ kind: 'registerRevision' }, { kind: 'ensureService', desiredCount: 1 });
      } else if (scaleUp) {
        steps.push({ kind: 'scaleService', desiredCount: 1 });
      }
      // A new revision rolls out behind an existing rule; without a rule, wait for this revision's health.
      if (
        !observed.ruleArn &&
        current &&
        observed.health === 'healthy' &&
        (observed.service?.runningCount ?? 0) > 0
      ) {
        steps.push({ kind: 'ensureRule' });
      } else if (observed.ruleArn && !sameRuleAccess(observed.ruleAccess, target.access)) {
        // A rotated secret or a changed mode: the live rule is updated in place, before anyone with the
        // old cookie gets further.
        steps.push({ kind: 'ensureRule' });
      }
      return steps;
    }
    case 'sleeping': {
      const steps: Step[] = [];
      // A warming rule goes too: put to sleep before it went live, it would keep the group attached.
      if (observed.ruleArn || observed.warming) steps.push({ kind: 'removeRule' });
      if (observed.service && observed.service.desiredCount !== 0)
        steps.push({ kind: 'scaleService', desiredCount: 0 });
      return steps;
    }
    case 'absent': {
      const steps: Step[] = [];
      if (observed.ruleArn) steps.push({ kind: 'removeRule' });
      if (observed.service) steps.push({ kind: 'deleteService' });
      if (observed.volumes?.length) steps.push({ kind: 'removeVolumes' });
      if (observed.targetGroupArn) steps.push({ kind: 'deleteTargetGroup' });
      if (observed.revisions > 0) steps.push({ kind: 'deregisterRevisions' });
      return steps;
    }
  }
}

/** Whether a running target is serving its revision through its host rule once `steps` have run. */
export function isServing(target: Target, observed: Observed, steps: Step[]): boolean {
  if (target.phase !== 'running') return false;
  const ruled = Boolean(observed.ruleArn) || steps.some((step) => step.kind === 'ensureRule');
  return (
    ruled &&
    observed.service?.revision === target.spec.revision &&
    observed.health === 'healthy' &&
    observed.service.runningCount > 0
  );
}
