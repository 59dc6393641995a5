import { desire } from '../environment/desire.ts';
import { type Environment, type EnvironmentId, parseEnvironmentId } from '../environment/environment.ts';
import { feedbackBehind } from '../feedback/publish.ts';
import type {
  Bus,
  Clock,
  EnvironmentStore,
  ImageBuilder,
  Inventory,
  Logger,
  Router,
  Runtime,
  Settings,
  SourceControl,
  Volumes,
} from '../ports.ts';
import { environmentRef } from '../reconcile/environment-ref.ts';
import { teardown } from '../reconcile/teardown.ts';
import { updateEnvironment } from './update.ts';

export interface ResyncDeps {
  store: EnvironmentStore;
  source: SourceControl;
  inventory: Inventory;
  runtime: Runtime;
  router: Router;
  bus: Bus;
  clock: Clock;
  log: Logger;
  settings: Settings;
  /** Volumes of environments that no longer exist are removed with their other resources. */
  volumes?: Volumes;
  /** Built images of environments that no longer exist are removed (ECR images carry no tags to list them by). */
  builder?: ImageBuilder;
}

/** Changes younger than this may still have their webhook or reconcile in flight: resync leaves them. */
export const RESYNC_GRACE_MS = 10 * 60_000;

export interface Orphan {
  environmentId: string;
  host: string;
  resources: string[];
}

export interface ResyncReport {
  dryRun: boolean;
  /** Environments whose pull request is no longer open on GitHub (a close webhook was missed). */
  closed: EnvironmentId[];
  /**
   * Environments whose observed state lags what is wanted, whose pull request shows an older status
   * (GitHub refused the update), or that keep commands GitHub could not vouch for: a reconcile is
   * requested again, and it publishes and obeys.
   */
  stuck: EnvironmentId[];
  /** Tagged resources no live environment owns, removed unless dry-run. */
  orphans: Orphan[];
}

function settled(env: Environment): boolean {
  const { desired, observed } = env;
  if (desired.phase === 'deleted') return observed.phase === 'deleted';
  if (observed.phase === 'skipped' || observed.phase === 'failed') return true;
  return desired.phase === 'sleeping' ? observed.phase === 'sleeping' : observed.phase === 'ready';
}

/**
 * The hourly safety net: what GitHub says is open, what the table says, and what carries Matinee's tags
 * in the account are brought back in line. Removes only what this stage tagged and nothing owns.
 */
export async function resync(deps: ResyncDeps, options: { dryRun: boolean }): Promise<ResyncReport> {
  const now = deps.clock.now();
  const before = now.getTime() - RESYNC_GRACE_MS;
  const environments = await deps.store.listAll();
  const old = (env: Environment) => Date.parse(env.updatedAt) < before;
  const report: ResyncReport = { dryRun: options.dryRun, closed: [], stuck: [], orphans: [] };

  const live = environments.filter((env) => env.desired.phase !== 'deleted');
  for (const repo of new Set(live.map((env) => env.repo))) {
    const open = new Set((await deps.source.listOpenPullRequests(repo)).map((pr) => pr.number));
    for (const env of live.filter((e) => e.repo === repo && old(e) && !open.has(e.number))) {
      report.closed.push(env.id);
      if (options.dryRun) continue;
      const stamp = now.toISOString();
      await updateEnvironment(deps.store, env.id, (current) =>
        current && current.desired.phase !== 'deleted' && old(current)
          ? {
              env: desire(
                { ...current, pr: { ...current.pr, open: false } },
                { phase: 'deleted', reason: 'pull request no longer open' },
                stamp,
              ),
              result: undefined,
            }
          : { result: undefined },
      );
    }
  }
  const closed = new Set<string>(report.closed);
  report.stuck = environments
    .filter(
      (env) =>
        !closed.has(env.id) &&
        old(env) &&
        (!settled(env) || feedbackBehind(env, now, deps) || env.pendingCommands !== undefined),
    )
    .map((env) => env.id);
  const requests = [...report.closed, ...report.stuck];
  if (requests.length && !options.dryRun) await deps.bus.requestReconcile(requests, 'resync');

  // Resources whose environment is gone for good (or never was recorded) belong to nobody.
  const byId = new Map(environments.map((env) => [env.id as string, env]));
  const groups = new Map<string, Orphan>();
  for (const resource of await deps.inventory.listOwned()) {
    const env = byId.get(resource.environmentId);
    const owned =
      env &&
      env.host === resource.host &&
      !(env.desired.phase === 'deleted' && env.observed.phase === 'deleted');
    if (owned || (env && !old(env))) continue;
    const key = `${resource.environmentId} ${resource.host}`;
    const orphan = groups.get(key) ?? {
      environmentId: resource.environmentId,
      host: resource.host,
      resources: [],
    };
    orphan.resources.push(resource.arn);
    groups.set(key, orphan);
  }
  report.orphans = [...groups.values()];
  if (!options.dryRun) {
    for (const orphan of report.orphans) {
      const { id } = parseEnvironmentId(orphan.environmentId);
      const slug = orphan.host.slice(0, orphan.host.length - deps.settings.domain.length - 1);
      deps.log.warn('removing orphaned resources', { ...orphan });
      await teardown(deps, environmentRef(deps.settings, { id, slug, host: orphan.host }));
    }
  }
  // Images are named by their environment's slug: those of no environment that lives (or changed lately) go.
  if (!options.dryRun && deps.builder?.pruneImages) {
    const keep = new Set(
      environments
        .filter((env) => !old(env) || !(env.desired.phase === 'deleted' && env.observed.phase === 'deleted'))
        .map((env) => env.slug),
    );
    const pruned = await deps.builder.pruneImages(keep);
    if (pruned.length) deps.log.warn('removed images of environments that are gone', { images: pruned });
  }
  deps.log.debug('resync done', {
    closed: report.closed.length,
    stuck: report.stuck.length,
    orphans: report.orphans.length,
    dryRun: options.dryRun,
  });
  return report;
}
