import { accessModeOf } from '../access/environment-access.ts';
import { previewLink } from '../access/links.ts';
import type { AccessMode } from '../access/mode.ts';
import type { FargatePrices } from '../environment/cost.ts';
import { desire } from '../environment/desire.ts';
import { countsAsAwake, type Environment, type EnvironmentId } from '../environment/environment.ts';
import { type PublicState, statusReport } from '../feedback/status-report.ts';
import { type AppLogTail, appLogTail } from '../logs/log-tail.ts';
import type {
  Activity,
  Bus,
  Clock,
  EnvironmentStore,
  Logger,
  LogLocator,
  LogReader,
  Settings,
} from '../ports.ts';
import { environmentRef } from '../reconcile/environment-ref.ts';
import { applyCommand } from '../use-cases/command.ts';
import { updateEnvironment } from '../use-cases/update.ts';
import { type DashboardAction, type OfferedAction, offeredActions } from './actions.ts';

export interface EnvironmentView {
  id: EnvironmentId;
  repo: string;
  number: number;
  branch: string;
  sha: string;
  state: PublicState;
  reason?: string;
  /** While its image is built (`build:`), or when that failed: the build's log. */
  buildLog?: string;
  /** The address to open it with: with its token when the preview is private (the dashboard is checked). */
  url: string;
  access: AccessMode;
  lastRequestAt?: string;
  sleepsAt?: string;
  wakes: { startedAt: string; seconds?: number }[];
  costSoFar: number;
  costPerHour: number;
  updatedAt: string;
  /** The buttons its row shows: only what would change something in this state (see offeredActions). */
  actions: OfferedAction[];
}

export interface DashboardDeps {
  store: EnvironmentStore;
  bus: Bus;
  clock: Clock;
  settings: Settings;
  prices?: FargatePrices;
  /**
   * Where asking for the latest requests is cheap (the local router counts its own), the dashboard shows
   * them live; without it (AWS) it shows what the sweep last recorded.
   */
  activity?: Activity;
  /** Where the apps' output is read from (the dashboard's log tails, `matinee logs`). */
  logs?: LogLocator | LogReader;
  log?: Logger;
}

/** `GET /api/environments/:id/logs`: why an environment is where it is, and what its app last wrote. */
export interface EnvironmentLogs extends AppLogTail {
  id: EnvironmentId;
  state: PublicState;
  reason?: string;
}

/** The last lines of an environment's app output, or undefined when there is no such environment. */
export async function environmentLogs(
  deps: DashboardDeps,
  id: EnvironmentId,
): Promise<EnvironmentLogs | undefined> {
  const env = await deps.store.get(id);
  if (!env) return undefined;
  const view = environmentView(env, deps);
  const tail = await appLogTail(deps, env);
  return { id, state: view.state, reason: view.reason, ...tail };
}

/** The environments with their last request as the router saw it, where it saw a later one. */
async function withLatestRequests(deps: DashboardDeps, envs: Environment[]): Promise<Environment[]> {
  const awake = envs.filter(countsAsAwake);
  if (!deps.activity || !awake.length) return envs;
  const now = deps.clock.now();
  const refs = awake.map((env) => environmentRef(deps.settings, env));
  const seen = await deps.activity.requestActivity(refs, new Date(now.getTime() - 86_400_000), now);
  return envs.map((env) => {
    const lastAt = seen.get(env.id)?.lastAt;
    return lastAt && lastAt.getTime() > (Date.parse(env.lastRequestAt ?? '') || 0)
      ? { ...env, lastRequestAt: lastAt.toISOString() }
      : env;
  });
}

export function environmentView(
  env: Environment,
  deps: Pick<DashboardDeps, 'clock' | 'settings' | 'prices'>,
): EnvironmentView {
  const report = statusReport(env, deps.clock.now(), deps);
  const state = report?.state ?? 'not-deployed';
  const access = accessModeOf(env, deps.settings);
  return {
    id: env.id,
    repo: env.repo,
    number: env.number,
    branch: env.pr.branch,
    sha: env.desired.sha,
    state,
    reason: report ? report.reason : env.observed.reason,
    buildLog: report?.buildLog,
    url: previewLink(env, deps.settings),
    access,
    lastRequestAt: env.lastRequestAt,
    sleepsAt: report?.sleepsAt,
    wakes: env.wakes.map((wake) => ({
      startedAt: wake.startedAt,
      seconds: wake.readyAt
        ? Math.round((Date.parse(wake.readyAt) - Date.parse(wake.startedAt)) / 1000)
        : undefined,
    })),
    costSoFar: report?.costSoFar ?? 0,
    costPerHour: report?.costPerHour ?? 0,
    updatedAt: env.updatedAt,
    actions: offeredActions(env, state, access),
  };
}

/** Every environment, open pull requests first, most recently changed first. */
export async function listEnvironmentViews(deps: DashboardDeps): Promise<EnvironmentView[]> {
  const all = await withLatestRequests(deps, await deps.store.listAll());
  return all
    .map((env) => environmentView(env, deps))
    .sort(
      (a, b) =>
        Number(a.state === 'removed') - Number(b.state === 'removed') ||
        b.updatedAt.localeCompare(a.updatedAt),
    );
}

/** One environment as the dashboard shows it, or undefined when there is none. */
export async function getEnvironmentView(
  deps: DashboardDeps,
  id: EnvironmentId,
): Promise<EnvironmentView | undefined> {
  const env = await deps.store.get(id);
  if (!env) return undefined;
  const [latest] = await withLatestRequests(deps, [env]);
  return environmentView(latest ?? env, deps);
}

/** What the dashboard's buttons do: the same changes as the comment commands, plus remove. */
export async function dashboardAction(
  deps: DashboardDeps,
  id: EnvironmentId,
  action: DashboardAction,
): Promise<{ found: boolean; message: string }> {
  const now = deps.clock.now().toISOString();
  const { env, result, written } = await updateEnvironment(deps.store, id, (current) => {
    if (!current) return { result: 'no such environment' };
    if (action === 'remove') {
      return current.desired.phase === 'deleted'
        ? { result: 'already removed' }
        : {
            env: desire(current, { phase: 'deleted', reason: 'removed from the dashboard' }, now),
            result: 'removing',
          };
    }
    const applied = applyCommand(current, { kind: action }, now);
    return applied.env ? { env: applied.env, result: applied.reply } : { result: applied.reply };
  });
  if (written) await deps.bus.requestReconcile([id], `dashboard: ${action}`);
  return { found: Boolean(env), message: result };
}
