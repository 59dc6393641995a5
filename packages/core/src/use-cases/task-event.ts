import { currentFailure, type Environment } from '../environment/environment.ts';
import { hostFor, slugFromService } from '../environment/naming.ts';
import type { Bus, Clock, EnvironmentStore, Logger, Settings } from '../ports.ts';
import { updateEnvironment } from './update.ts';

/** An ECS task of some service changed state. */
export interface TaskEvent {
  /** The ECS service name (the event's `group` without `service:`). */
  service: string;
  /** The task's id: EventBridge delivers an event at least once, and a stop is counted once. */
  taskArn: string;
  /** When the task was created (ISO 8601), when known. */
  createdAt?: string;
  taskDefinitionArn: string;
  lastStatus: string;
  desiredStatus?: string;
  stopCode?: string;
  stoppedReason?: string;
}

/** A task's id, the last part of its ARN (`…:task/<cluster>/<id>`): its log streams are named after it. */
export function taskIdOf(taskArn: string): string | undefined {
  return /([A-Za-z0-9_-]+)$/.exec(taskArn)?.[1];
}

export interface TaskEventDeps {
  store: EnvironmentStore;
  bus: Bus;
  clock: Clock;
  log: Logger;
  settings: Settings;
}

/** The environment an ECS service of this stage belongs to (its name carries the environment's slug). */
async function environmentOfService(deps: TaskEventDeps, service: string): Promise<Environment | undefined> {
  const slug = slugFromService(deps.settings.stage, service);
  return slug ? deps.store.getByHost(hostFor(slug, deps.settings.domain)) : undefined;
}

/**
 * ECS says a service reached a steady state: its tasks run and pass the load balancer's health checks.
 * For an environment still starting, that is the moment the host rule can go on; ECS sends no task event
 * for it (a task is RUNNING before its checks pass). Otherwise nothing to do: ECS repeats this event.
 */
export async function onServiceSteady(
  deps: TaskEventDeps,
  service: string,
): Promise<'ignored' | 'reconcile'> {
  const found = await environmentOfService(deps, service);
  if (found?.desired.phase !== 'running' || found.observed.phase === 'ready') return 'ignored';
  await deps.bus.requestReconcile([found.id], 'service steady');
  return 'reconcile';
}

/** The reason ECS gives for a task it could not place because Fargate (or Fargate Spot) has no room. */
export const NO_FARGATE_CAPACITY = 'RESOURCE:FARGATE';

/**
 * ECS could not place a task of the service. For want of Fargate capacity (`RESOURCE:FARGATE`) on Spot,
 * that is Spot having no room in the region's zones right now: the environment moves to on-demand Fargate
 * (a new deployment) until it next sleeps, instead of waiting for Spot with its waking page spinning.
 * On-demand without room is left to ECS, which keeps trying, and to the sweep, which keeps asking. Any
 * other reason (a subnet without free addresses, an ENI limit, a platform version) is no capacity problem
 * and will not pass by itself: the environment's commit fails with the reason ECS gave.
 */
export async function onServicePlacementFailure(
  deps: TaskEventDeps,
  service: string,
  reason: string,
): Promise<'ignored' | 'reconcile' | 'failed'> {
  const found = await environmentOfService(deps, service);
  if (!found) return 'ignored';
  const now = deps.clock.now().toISOString();
  if (reason !== NO_FARGATE_CAPACITY) {
    const failure = `ECS could not place a task: ${reason}`;
    const { written } = await updateEnvironment(deps.store, found.id, (env) =>
      env?.desired.phase === 'running' && !currentFailure(env)
        ? {
            env: {
              ...env,
              observed: {
                ...env.observed,
                phase: 'failed',
                since: now,
                failure: { sha: env.desired.sha, reason: failure, at: now },
              },
              updatedAt: now,
            },
            result: undefined,
          }
        : { result: undefined },
    );
    if (!written) return 'ignored';
    deps.log.warn('a task could not be placed', { id: found.id, reason });
    await deps.bus.requestReconcile([found.id], 'failed');
    return 'failed';
  }
  const onSpot = (env: Environment) =>
    env.desired.phase === 'running' &&
    env.spotUnavailableAt === undefined &&
    env.config?.status === 'ok' &&
    env.config.value.spot;
  if (!onSpot(found)) return 'ignored';
  const { written } = await updateEnvironment(deps.store, found.id, (env) =>
    env && onSpot(env)
      ? { env: { ...env, spotUnavailableAt: now, updatedAt: now }, result: undefined }
      : { result: undefined },
  );
  if (!written) return 'ignored';
  deps.log.warn('Fargate Spot has no capacity: moving to on-demand until it sleeps', { id: found.id });
  await deps.bus.requestReconcile([found.id], 'no Spot capacity');
  return 'reconcile';
}

/** Stopped tasks of one commit after which Matinee stops restarting it and reports it failed. */
export const CRASHES_BEFORE_FAILED = 3;

/** Stops that say the app cannot run, as opposed to scale-in, deploys, or Spot reclaiming capacity. */
function isCrash(event: TaskEvent): boolean {
  if (event.lastStatus !== 'STOPPED') return false;
  if (event.stopCode === 'TaskFailedToStart' || event.stopCode === 'EssentialContainerExited') return true;
  return event.stopCode === 'ServiceSchedulerInitiated' && /health check/i.test(event.stoppedReason ?? '');
}

/**
 * ECS could not assume the task's role. An environment with volumes runs as a role of its own made moments
 * before (IAM takes some seconds to let ECS assume a new role): not the app's doing, and not a crash.
 */
function roleNotAssumable(event: TaskEvent): boolean {
  return (
    event.stopCode === 'TaskFailedToStart' && /unable to assume the role/i.test(event.stoppedReason ?? '')
  );
}

/**
 * A task created before the environment last changed what it wants (a retry, a wake, a push) belongs to a
 * deployment since replaced: its stop, delivered late, says nothing about the current one.
 */
function olderThanWanted(event: TaskEvent, env: Environment): boolean {
  return event.createdAt !== undefined && Date.parse(event.createdAt) < Date.parse(env.desired.since);
}

export type TaskEventOutcome = 'ignored' | 'reconcile' | 'crash' | 'failed';

/**
 * A stopped task may be a crash: a commit whose tasks keep stopping on their own is marked failed after a
 * few tries instead of restarting forever. A task starting or running needs nothing: it is RUNNING before it
 * passes the load balancer's checks, and the service's steady state (onServiceSteady) is what says it did.
 */
export async function onTaskEvent(deps: TaskEventDeps, event: TaskEvent): Promise<TaskEventOutcome> {
  if (event.lastStatus !== 'STOPPED') return 'ignored';
  const found = await environmentOfService(deps, event.service);
  if (!found || found.desired.phase === 'deleted') return 'ignored';
  const current = found.observed.resources.taskDefinitionArn;
  // A task stopped by scale-in, a deploy or Spot needs nothing from Matinee: ECS replaces what is wanted.
  if (!isCrash(event)) return 'ignored';
  // ECS starts another; the reconcile looks at the role again (and makes it anew if it is gone).
  const lagging = roleNotAssumable(event);
  if (lagging || found.desired.phase !== 'running' || (current && current !== event.taskDefinitionArn)) {
    await deps.bus.requestReconcile([found.id], `task ${event.lastStatus.toLowerCase()}`);
    return 'reconcile';
  }

  const now = deps.clock.now().toISOString();
  const reason = event.stoppedReason ?? event.stopCode ?? 'task stopped';
  // The check and the count are one conditional write: a duplicate racing its original loses the write,
  // reads the task as counted, and changes nothing.
  const { env, written } = await updateEnvironment(deps.store, found.id, (env) => {
    if (env?.desired.phase !== 'running' || currentFailure(env) || olderThanWanted(event, env))
      return { result: undefined };
    const sha = env.desired.sha;
    const counted = env.observed.crashes?.sha === sha ? env.observed.crashes : undefined;
    if (counted?.tasks?.includes(event.taskArn)) return { result: undefined };
    const count = (counted?.count ?? 0) + 1;
    const tasks = [...(counted?.tasks ?? []), event.taskArn].slice(-CRASHES_BEFORE_FAILED);
    const observed: Environment['observed'] = {
      ...env.observed,
      crashes: { sha, count, tasks },
      lastError: reason,
    };
    if (count >= CRASHES_BEFORE_FAILED) {
      const task = taskIdOf(event.taskArn);
      observed.failure = { sha, reason: `stopped ${count} times: ${reason}`, at: now, ...(task && { task }) };
      observed.phase = 'failed';
      observed.since = now;
    }
    return { env: { ...env, observed, updatedAt: now }, result: undefined };
  });
  if (!written || !env) return 'ignored';
  const failure = currentFailure(env);
  const crashes = env.observed.crashes?.count ?? 1;
  deps.log.warn(
    failure
      ? `${env.slug} failed: ${failure.reason}`
      : `${env.slug} stopped on its own (${crashes} of ${CRASHES_BEFORE_FAILED}), restarting: ${reason}`,
    { id: env.id },
  );
  if (!failure) return 'crash';
  await deps.bus.requestReconcile([env.id], 'failed');
  return 'failed';
}
