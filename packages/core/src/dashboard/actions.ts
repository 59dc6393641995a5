import type { AccessMode } from '../access/mode.ts';
import type { Environment } from '../environment/environment.ts';
import type { PublicState } from '../feedback/status-report.ts';
import { environmentVolumes } from '../volumes/seed-once.ts';

export const dashboardActions = ['wake', 'sleep', 'redeploy', 'reset-data', 'remove', 'rotate-link'] as const;
export type DashboardAction = (typeof dashboardActions)[number];

/** What a row of the dashboard offers: its actions, and `share` (`POST …/share`, a time-limited link). */
export type OfferedAction = DashboardAction | 'share';

/**
 * The buttons worth showing for an environment in `state`: those that would change something. Wake only
 * what sleeps, sleep only what is (or is becoming) awake, redeploy what has a commit to deploy, reset-data
 * only with volumes, links only for a private preview; nothing once it is being removed or its pull request
 * is closed (a command would be refused). A fork's commit waiting for approval offers remove alone: the
 * dashboard names nobody, so it cannot approve it.
 */
export function offeredActions(env: Environment, state: PublicState, access: AccessMode): OfferedAction[] {
  if (!env.pr.open || state === 'removing' || state === 'removed') return [];
  const offered: OfferedAction[] = [];
  const running = env.desired.phase === 'running';
  if (state === 'asleep' && !running) offered.push('wake');
  if (running && ['ready', 'waking', 'building', 'failed'].includes(state)) offered.push('sleep');
  if (['ready', 'asleep', 'failed'].includes(state)) offered.push('redeploy');
  const deployed = state !== 'not-deployed' && state !== 'waiting';
  const config = env.config?.status === 'ok' ? env.config.value : undefined;
  if (deployed && config && environmentVolumes(config).length > 0 && !env.volumes?.reset)
    offered.push('reset-data');
  if (deployed && access !== 'public' && env.accessSecret) offered.push('share', 'rotate-link');
  offered.push('remove');
  return offered;
}
