import { publishedLink } from '../access/links.ts';
import { costOf, DEFAULT_PRICES, type FargatePrices, hourlyCost } from '../environment/cost.ts';
import { awakeSecondsUntil } from '../environment/desire.ts';
import { currentFailure, type Environment } from '../environment/environment.ts';
import { shortHash } from '../environment/naming.ts';
import {
  approvalStands,
  awaitingApproval,
  commitAwaitingApproval,
  forkLabel,
} from '../environment/policy.ts';
import { logLocation } from '../logs/log-tail.ts';
import { type LogLocation, type LogLocator, publicUrl, type Settings } from '../ports.ts';
import { idleSeconds, lastActive } from '../use-cases/idle.ts';

/** What the pull request shows: the state in words a reviewer understands. */
export type PublicState =
  | 'building'
  /** A fork's new commit, held until a maintainer approves it (an approved one may still be serving). */
  | 'waiting'
  | 'waking'
  | 'ready'
  | 'asleep'
  | 'failed'
  | 'not-deployed'
  | 'removing'
  | 'removed';

export interface StatusReport {
  repo: string;
  number: number;
  /** GitHub deployment environment, one per pull request. */
  environment: string;
  url: string;
  state: PublicState;
  sha: string;
  /** Why it is not deployed, or failed: plain text, often quoting others (config, ECS, the app). */
  reason?: string;
  /**
   * A fork's head commit that waits for a maintainer's approval (nothing of it runs until then), and the
   * commit approved before it, if any.
   */
  approval?: { sha: string; approved?: { sha: string; user: string } };
  /** When it goes to sleep if nobody opens it. */
  sleepsAt?: string;
  lastWakeSeconds?: number;
  /** Dollars spent on Fargate for this environment so far, and per awake hour. */
  costSoFar: number;
  costPerHour: number;
  /**
   * When `costSoFar` was computed. The cost is not part of `key` (the comment would be edited all the time
   * while awake), so the comment says how old its figure is.
   */
  costAt: string;
  spot: boolean;
  lastCommand?: Environment['lastCommand'];
  /** While Matinee builds the commit's images (`build:`): where the build's log is read. */
  buildLog?: string;
  /** Where the app's output is (a console link on AWS, a file locally), while there is an app. */
  logs?: LogLocation;
  /** The stage's dashboard. */
  dashboardUrl?: string;
  /** Changes exactly when something worth publishing changes (not the running cost). */
  key: string;
}

function publicState(env: Environment): PublicState {
  if (env.desired.phase === 'deleted') return env.observed.phase === 'deleted' ? 'removed' : 'removing';
  if (currentFailure(env)) return 'failed';
  switch (env.observed.phase) {
    case 'ready':
      return env.desired.phase === 'running' ? 'ready' : 'asleep';
    case 'skipped':
      return 'not-deployed';
    case 'sleeping':
      return env.desired.phase === 'running' ? 'waking' : 'asleep';
    default:
      if (awaitingApproval(env)) return 'waiting';
      // A wake that has not finished yet shows as waking; a first deploy or a push as building.
      return env.wakes[0] && !env.wakes[0].readyAt && env.desired.reason === 'woken by a request'
        ? 'waking'
        : 'building';
  }
}

/** The log of the desired commit's image build, while it is queued or building, or when it failed. */
function buildLogOf(env: Environment): string | undefined {
  const build = env.build;
  if (!build || build.sha !== env.desired.sha || env.desired.phase === 'deleted') return undefined;
  return build.state === 'succeeded' ? undefined : build.logUrl;
}

/**
 * What to show on the pull request for `env`, or undefined when the repository is not enabled (no
 * `.matinee.yml`): Matinee then stays silent. For a fork that is the base commit's file, so a fork adding
 * its own file to a repository without one gets no comment either.
 */
export function statusReport(
  env: Environment,
  now: Date,
  options: { prices?: FargatePrices; settings?: Settings; logs?: LogLocator } = {},
): StatusReport | undefined {
  const prices = options.prices ?? DEFAULT_PRICES;
  const enabling = env.pr.fork ? env.policy : env.config;
  if (enabling?.status === 'missing') return undefined;
  const state = publicState(env);
  const config = env.config?.status === 'ok' ? env.config.value : undefined;
  const size = config?.size ?? { cpu: 256, memory: 512 };
  const spot = config?.spot ?? true;
  const lastWake = env.wakes.find((wake) => wake.readyAt);
  const reason =
    state === 'failed' ? currentFailure(env)?.reason : state === 'ready' ? undefined : env.observed.reason;
  const sleepsAt =
    state === 'ready'
      ? new Date(
          Math.max(lastActive(env), env.awakeSince ? 0 : Date.parse(env.updatedAt)) + idleSeconds(env) * 1000,
        ).toISOString()
      : undefined;
  const awaiting = state === 'removed' || state === 'removing' ? undefined : commitAwaitingApproval(env);
  const given = env.forkApproval;
  const labelled = env.pr.labels.includes(forkLabel(env.policy));
  const approved =
    given?.allowed && given.sha && given.sha !== awaiting && approvalStands(given, labelled)
      ? { sha: given.sha, user: given.user }
      : undefined;
  const report: Omit<StatusReport, 'key'> = {
    repo: env.repo,
    number: env.number,
    environment: `preview/pr-${env.number}`,
    url: options.settings ? publishedLink(env, options.settings) : publicUrl({}, env.host),
    state,
    sha: env.desired.sha,
    reason,
    approval: awaiting ? { sha: awaiting, approved } : undefined,
    sleepsAt,
    lastWakeSeconds: lastWake?.readyAt
      ? Math.round((Date.parse(lastWake.readyAt) - Date.parse(lastWake.startedAt)) / 1000)
      : undefined,
    costSoFar: Math.round(costOf(awakeSecondsUntil(env, now), size, spot, prices) * 100) / 100,
    costPerHour: Math.round(hourlyCost(size, spot, prices) * 10_000) / 10_000,
    costAt: now.toISOString(),
    spot,
    lastCommand: env.lastCommand,
    buildLog: buildLogOf(env),
    logs:
      options.settings && state !== 'removed' && state !== 'not-deployed'
        ? logLocation({ logs: options.logs, settings: options.settings }, env)
        : undefined,
    dashboardUrl: options.settings && `${publicUrl(options.settings, options.settings.domain)}/`,
  };
  const key = JSON.stringify([
    state,
    report.sha,
    reason,
    report.approval,
    sleepsAt,
    report.lastWakeSeconds,
    // The whole command, not only its time: two commands within one clock tick are two answers to show.
    env.lastCommand,
    report.buildLog,
    // A rotated link is published again (a digest: the key is logged and stored, the link may be secret).
    shortHash(report.url, 12),
  ]);
  return { ...report, key };
}
