import type { FargatePrices } from '../environment/cost.ts';
import type { Environment, EnvironmentId } from '../environment/environment.ts';
import type { Clock, EnvironmentStore, Logger, LogLocator, Settings, SourceControl } from '../ports.ts';
import { updateEnvironment } from '../use-cases/update.ts';
import { statusReport } from './status-report.ts';

export interface FeedbackDeps {
  store: EnvironmentStore;
  source: SourceControl;
  clock: Clock;
  log: Logger;
  prices?: FargatePrices;
  settings?: Settings;
  /** For the link to the app's output in the comment. */
  logs?: LogLocator;
}

/**
 * Whether the pull request shows an older status than `env` has: GitHub refused the last update (rate
 * limit, 5xx), or it was never sent. Resync asks again for such environments, since nothing else would.
 */
export function feedbackBehind(env: Environment, now: Date, options: { settings?: Settings } = {}): boolean {
  const report = statusReport(env, now, options);
  return report !== undefined && env.reported !== report.key;
}

/**
 * Tells the pull request what changed, once per change. GitHub being down or rate-limiting never blocks
 * the environment: a failure is logged and the next reconcile publishes again, because the published key
 * is only recorded after GitHub accepted it; when no reconcile comes (a closed or sleeping environment is
 * settled), resync requests one (see `feedbackBehind`).
 */
export async function publishFeedback(
  deps: FeedbackDeps,
  id: EnvironmentId,
): Promise<'published' | 'unchanged' | 'silent' | 'failed'> {
  const env = await deps.store.get(id);
  if (!env) return 'silent';
  const report = statusReport(env, deps.clock.now(), deps);
  if (!report) return 'silent';
  if (env.reported === report.key) return 'unchanged';
  try {
    await deps.source.publish(report);
  } catch (error) {
    deps.log.warn('could not update the pull request; will try again', {
      id,
      error: error instanceof Error ? error.message : String(error),
    });
    return 'failed';
  }
  await updateEnvironment(deps.store, id, (current) => {
    const now = current && statusReport(current, deps.clock.now(), deps);
    // Record only if what was published is still what the environment says.
    return current && now?.key === report.key
      ? { env: { ...current, reported: report.key }, result: undefined }
      : { result: undefined };
  });
  return 'published';
}
