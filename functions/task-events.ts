import { onTaskEvent } from '@matinee/core';
import { ecsTaskStateChange, taskEventOf } from './lib/events.ts';
import { fromLinks, type Platform } from './lib/platform.ts';

/** ECS Task State Change of this stage's cluster → observed state: health, crashes, failure. */
export async function taskStateChanged(platform: Platform, event: unknown): Promise<string> {
  const parsed = ecsTaskStateChange.parse(event);
  const task = taskEventOf(parsed);
  if (!task || parsed.detail.clusterArn !== platform.config.stage.cluster.arn) return 'ignored';
  return onTaskEvent(platform, task);
}

export const handler = (event: unknown) => taskStateChanged(fromLinks(), event);
