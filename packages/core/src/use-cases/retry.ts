import { desire } from '../environment/desire.ts';
import { currentFailure, type EnvironmentId } from '../environment/environment.ts';
import type { Bus, Clock, EnvironmentStore } from '../ports.ts';
import { updateEnvironment } from './update.ts';

/** Tries a failed commit again (the waking page's retry button, `/matinee redeploy`). */
export async function retryFailed(
  deps: { store: EnvironmentStore; bus: Bus; clock: Clock },
  id: EnvironmentId,
): Promise<boolean> {
  const now = deps.clock.now().toISOString();
  const { written } = await updateEnvironment(deps.store, id, (current) => {
    if (!current || !currentFailure(current) || current.desired.phase === 'deleted')
      return { result: undefined };
    return {
      env: {
        ...desire(current, { phase: 'running', reason: 'retry' }, now),
        observed: {
          ...current.observed,
          failure: undefined,
          crashes: undefined,
          phase: 'pending',
          since: now,
        },
      },
      result: undefined,
    };
  });
  if (written) await deps.bus.requestReconcile([id], 'retry');
  return written;
}
