import { parseEnvironmentId } from '../environment/environment.ts';
import type { Bus, EnvironmentStore } from '../ports.ts';

export interface TaskEvent {
  /** The environment, from the task's `matinee:environment` tag or its service name. */
  environmentId: string;
  lastStatus: string;
  stoppedReason?: string;
}

/**
 * ECS told us a task of an environment changed state: reconcile to look again. (The AWS data plane adds
 * crash counting and stopped reasons here.)
 */
export async function onTaskEvent(
  deps: { store: EnvironmentStore; bus: Bus },
  event: TaskEvent,
): Promise<boolean> {
  const { id } = parseEnvironmentId(event.environmentId);
  const env = await deps.store.get(id);
  if (!env) return false;
  await deps.bus.requestReconcile([id], `task ${event.lastStatus.toLowerCase()}`);
  return true;
}
