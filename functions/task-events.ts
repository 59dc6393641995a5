import { onTaskEvent } from '@matinee/core';
import { ecsTaskStateChange, taskEventOf } from './lib/events.ts';
import { type BasePart, basePart, linkedSettings, once } from './lib/platform.ts';

/** ECS Task State Change of this stage's cluster → observed state: health, crashes, failure. */
export async function taskStateChanged(platform: BasePart, event: unknown): Promise<string> {
  const parsed = ecsTaskStateChange.parse(event);
  const task = taskEventOf(parsed);
  if (!task || parsed.detail.clusterArn !== platform.config.stage.cluster.arn) return 'ignored';
  return onTaskEvent(platform, task);
}

const deps = once(() => basePart(linkedSettings()));
export const handler = (event: unknown) => taskStateChanged(deps(), event);
