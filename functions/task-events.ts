import { BUILD_VARIABLES } from '@matinee/aws';
import { onServicePlacementFailure, onServiceSteady, onTaskEvent } from '@matinee/core';
import { buildEnvironmentOf, describeRefused, ecsEvent, serviceNameOf, taskEventOf } from './lib/events.ts';
import { type BasePart, basePart, linkedSettings, once } from './lib/platform.ts';

/**
 * ECS events of this stage's cluster → observed state. A stopped task: crashes, failure. A service's steady
 * state: its targets pass the ALB's checks, so the host rule can go on. A task it could not place: Spot has
 * no room, so the environment moves to on-demand. A build of its CodeBuild project changed: a reconcile.
 */
export async function taskStateChanged(platform: BasePart, event: unknown): Promise<string> {
  const result = ecsEvent.safeParse(event);
  // Not an event this function reads (malformed, or another kind): no retry would change it, so it is
  // answered, not thrown for EventBridge to deliver twice more. A failure reading or asking below still throws.
  if (!result.success) {
    platform.log.warn('event ignored: not one this function reads', describeRefused(event, result.error));
    return 'ignored';
  }
  const parsed = result.data;
  if (parsed['detail-type'] === 'CodeBuild Build State Change') {
    // A build's state is read by its environment's reconcile (ImageBuilder.status); this only asks for it.
    if (parsed.detail['project-name'] !== platform.config.stage.build?.project) return 'ignored';
    const environment = buildEnvironmentOf(parsed, BUILD_VARIABLES.environment);
    if (!environment || !(await platform.store.get(environment))) return 'ignored';
    await platform.bus.requestReconcile(
      [environment],
      `build ${parsed.detail['build-status'].toLowerCase()}`,
    );
    return 'reconcile requested';
  }
  if (parsed.detail.clusterArn !== platform.config.stage.cluster.arn) return 'ignored';
  if (parsed['detail-type'] === 'ECS Service Action') {
    const service = serviceNameOf(parsed.resources[0] ?? '');
    if (!service) return 'ignored';
    if (parsed.detail.eventName === 'SERVICE_STEADY_STATE') return onServiceSteady(platform, service);
    if (parsed.detail.eventName === 'SERVICE_TASK_PLACEMENT_FAILURE')
      return onServicePlacementFailure(platform, service, parsed.detail.reason ?? 'no reason given');
    return 'ignored';
  }
  const task = taskEventOf(parsed);
  return task ? onTaskEvent(platform, task) : 'ignored';
}

const deps = once(() => basePart(linkedSettings()));
export const handler = (event: unknown) => taskStateChanged(deps(), event);
