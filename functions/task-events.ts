import { onServiceSteady, onTaskEvent } from '@matinee/core';
import { ecsEvent, serviceNameOf, taskEventOf } from './lib/events.ts';
import { type BasePart, basePart, linkedSettings, once } from './lib/platform.ts';

/**
 * ECS events of this stage's cluster → observed state. A task's state change: health, crashes, failure. A
 * service's steady state: its targets pass the ALB's checks, so the host rule can go on.
 */
export async function taskStateChanged(platform: BasePart, event: unknown): Promise<string> {
  const parsed = ecsEvent.parse(event);
  if (parsed.detail.clusterArn !== platform.config.stage.cluster.arn) return 'ignored';
  if (parsed['detail-type'] === 'ECS Service Action') {
    const service =
      parsed.detail.eventName === 'SERVICE_STEADY_STATE' && serviceNameOf(parsed.resources[0] ?? '');
    return service ? onServiceSteady(platform, service) : 'ignored';
  }
  const task = taskEventOf(parsed);
  return task ? onTaskEvent(platform, task) : 'ignored';
}

const deps = once(() => basePart(linkedSettings()));
export const handler = (event: unknown) => taskStateChanged(deps(), event);
