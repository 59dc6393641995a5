import { en } from 'zod/locales';
import * as z from 'zod/mini';
import type { LoadedConfig } from '../config/config.ts';

/** `owner/repo#number`, lowercase: GitHub treats owner and repository names case-insensitively. */
export type EnvironmentId = string & { readonly __brand: 'EnvironmentId' };

const repoPattern = /^[a-z0-9](?:[a-z0-9-]{0,38})\/[a-z0-9._-]{1,100}$/;

export function normalizeRepo(repo: string): string {
  const normalized = repo.trim().toLowerCase();
  if (!repoPattern.test(normalized))
    throw new Error(`not a GitHub repository name (owner/name): ${JSON.stringify(repo)}`);
  return normalized;
}

export function environmentId(repo: string, number: number): EnvironmentId {
  if (!Number.isSafeInteger(number) || number < 1) throw new Error(`not a pull request number: ${number}`);
  return `${normalizeRepo(repo)}#${number}` as EnvironmentId;
}

export function parseEnvironmentId(value: string): { repo: string; number: number; id: EnvironmentId } {
  const match = /^(.+)#(\d+)$/.exec(value);
  if (!match?.[1] || !match[2])
    throw new Error(`not an environment id (owner/repo#number): ${JSON.stringify(value)}`);
  const id = environmentId(match[1], Number(match[2]));
  if (id !== value)
    throw new Error(`not a normalized environment id: ${JSON.stringify(value)} (expected ${id})`);
  return { repo: match[1], number: Number(match[2]), id };
}

export const desiredPhases = ['running', 'sleeping', 'deleted'] as const;
export type DesiredPhase = (typeof desiredPhases)[number];

/**
 * What reconcile last saw. `building`: held until `.matinee.yml` `build:` images of the desired commit are
 * built (see `Environment.build`). `skipped` is an open pull request that policy keeps from deploying
 * (skipped branch, draft, fork without the label, missing or invalid `.matinee.yml`).
 */
export const observedPhases = [
  'pending',
  'building',
  'starting',
  'ready',
  'sleeping',
  'failed',
  'deleting',
  'deleted',
  'skipped',
] as const;
export type ObservedPhase = (typeof observedPhases)[number];

/** What GitHub last told us about the pull request; `updatedAt` orders deliveries that arrive out of order. */
export interface PullRequestFacts {
  branch: string;
  headSha: string;
  baseSha: string;
  /** The head branch lives in another repository. */
  fork: boolean;
  draft: boolean;
  open: boolean;
  merged: boolean;
  labels: string[];
  /** `pull_request.updated_at` of the delivery these facts came from. */
  updatedAt: string;
  /** Who added each label, where a `labeled` delivery told us: a fork's deploy label counts only from a writer. */
  labeledBy?: Record<string, string>;
  /**
   * The head commit when each label of `labeledBy` was added: a fork's deploy label approves that commit
   * only, not whatever the fork pushes later (nor a push that raced the label to the first reconcile).
   */
  labeledAt?: Record<string, string>;
}

export interface Resources {
  taskDefinitionArn?: string;
  serviceArn?: string;
  targetGroupArn?: string;
  ruleArn?: string;
}

export interface Failure {
  sha: string;
  reason: string;
  at: string;
  /** The workflow whose failed run caused it: a later successful run of it for `sha` clears the failure. */
  workflow?: string;
  /** The id of the task whose stop made it fail, where one did: its output is what explains it. */
  task?: string;
}

/** One image build of an environment's commit (see ImageBuilder). */
export interface BuildRecord {
  sha: string;
  /** 1 for the commit's first build, one more for each retry after a failed one. */
  attempt: number;
  /** The builder's id: what `status` and `stop` take. */
  id: string;
  state: 'queued' | 'building' | 'succeeded' | 'failed';
  startedAt: string;
  /** When it last changed state. */
  since: string;
  /** Where the whole build log is read (a console link on AWS); shown in the comment while building. */
  logUrl?: string;
  /** failed: the builder's reason and the last lines of the log, cleaned (see log-tail.ts), not yet escaped. */
  reason?: string;
  logTail?: string[];
}

export interface WakeRecord {
  startedAt: string;
  readyAt?: string;
}

export interface Environment {
  id: EnvironmentId;
  repo: string;
  number: number;
  /** DNS label, unique among all environments; fixed for the environment's life. */
  slug: string;
  host: string;
  pr: PullRequestFacts;
  desired: {
    phase: DesiredPhase;
    sha: string;
    /** Set by reconcile once the config at `sha` is loaded. */
    configDigest?: string;
    reason: string;
    since: string;
  };
  /** `.matinee.yml` at the head commit, as last loaded. For forks, `policy` is read from the base commit. */
  config?: LoadedConfig;
  policy?: LoadedConfig;
  observed: {
    phase: ObservedPhase;
    sha?: string;
    configDigest?: string;
    resources: Resources;
    /** Why the environment is skipped, in words for the PR author. */
    reason?: string;
    /** The last error of a reconcile that will be retried (throttling, network); cleared by a clean run. */
    lastError?: string;
    /**
     * A commit that cannot run as configured (image missing, task crashing on start). While it is the
     * desired commit the environment stays down and costs nothing; a push or a retry clears it.
     */
    failure?: Failure;
    /**
     * Tasks of `sha` that stopped on their own (crash, failed start, failed health checks) while wanted;
     * `tasks`: the ARNs counted (the last few), so that a stop delivered twice counts once.
     */
    crashes?: { sha: string; count: number; tasks?: string[] };
    /** While starting: what it waits on besides Fargate, for the waking page (others put to sleep for room). */
    note?: string;
    since: string;
  };
  lastRequestAt?: string;
  /**
   * When the commit it serves became ready, set each time a new commit does (a push to an awake preview): the
   * idle clock starts again from it, as from a request.
   */
  servingSince?: string;
  /** When desired last became `running`; the sweep never sleeps an environment woken within its idle window. */
  awakeSince?: string;
  /** Seconds spent awake before `awakeSince` (the current stretch is not in it yet). */
  awakeSeconds?: number;
  /** Most recent first, at most a few: the waking page's estimate comes from these. */
  wakes: WakeRecord[];
  /** How long the environment took to start the first time: the estimate until a wake has been timed. */
  firstStartSeconds?: number;
  /** Completed GitHub Actions runs by `<sha> <workflow name>`: the image exists once the config's one succeeded. */
  builds?: Record<string, { conclusion: string; url?: string }>;
  /**
   * The image build (`.matinee.yml` `build:`) of the desired commit, or of the last commit built. Kept after
   * it succeeds: waking, redeploying or retrying a task of the same commit uses its images, never rebuilds.
   * A push to another commit stops a build still queued or building and starts one for the new commit.
   */
  build?: BuildRecord;
  /** `/matinee env` variables for this environment, on top of `.matinee.yml`. */
  overrides?: Record<string, string>;
  /** `/matinee keep-awake`: the sweep leaves the environment awake until then. */
  keepAwakeUntil?: string;
  /** `/matinee redeploy` bumps it: a new task definition revision for the same commit and config. */
  deployNonce?: number;
  /**
   * Who approved deploying a fork's commit `sha`, and whether they may (write access), once checked. It
   * approves that commit only: a new push waits for approval again. Approvals recorded before they named a
   * commit (no `sha`) approve nothing. `via`: the deploy label (the head when it was added), a writer's
   * `/matinee redeploy` (the head then) or `/matinee approve <sha>` (that commit); none recorded means the
   * label or a redeploy. Only an approve given while the label was off (`underLabel` false) stands without
   * the label: removing the label withdraws every other approval.
   */
  forkApproval?: {
    user: string;
    allowed: boolean;
    sha?: string;
    via?: 'label' | 'redeploy' | 'approve';
    underLabel?: boolean;
  };
  /**
   * What opens the preview in the `link` and `github` access modes (see access/secret.ts): made when the
   * record is created (or by the first reconcile of a record older than access control), replaced by
   * `/matinee rotate-link`. Never logged, never on a page; in a comment only on a private repository.
   */
  accessSecret?: string;
  /** `repository.private` as the last pull request delivery said: on a public repository no token is published. */
  repoPrivate?: boolean;
  /** The last status published to the pull request (comment, deployment), to publish each change once. */
  reported?: string;
  /** The last comment command, and Matinee's answer, shown in the sticky comment. */
  lastCommand?: { user: string; text: string; reply: string; at: string };
  /**
   * Comment commands received while GitHub could not say whether their author may give them (rate limit,
   * 5xx): kept here, in order, until a reconcile (or the resync) can ask and obey them.
   */
  pendingCommands?: { commentId: number; user: string; body: string }[];
  /**
   * When Fargate Spot had no capacity for this environment's task: it runs on-demand Fargate until it next
   * goes to sleep, then tries Spot again.
   */
  spotUnavailableAt?: string;
  /** The environment's volumes (`.matinee.yml` `volumes`), whose data outlives its tasks. */
  volumes?: {
    /**
     * The volumes the seed has run on (started beside a task that became healthy) since they were made or
     * last reset: a start seeds again only when one of the config's volumes is not among them.
     */
    seeded?: { names: string[]; at: string };
    /** A reset asked (`/matinee reset-data`, the dashboard) and not yet done: empty them, then seed again. */
    reset?: { at: string; by: string };
  };
  /** Set once deleted: the store keeps the tombstone until then so the URL can answer 410. */
  expiresAt?: string;
  createdAt: string;
  updatedAt: string;
  /** Incremented by every save; saves are conditional on it. */
  version: number;
}

/** The failure of the desired commit, if it failed. */
export function currentFailure(env: Pick<Environment, 'desired' | 'observed'>): Failure | undefined {
  const failure = env.observed.failure;
  return failure && failure.sha === env.desired.sha ? failure : undefined;
}

/**
 * Whether the environment holds, or is about to hold, what the capacity limits and what costs money: a
 * running task and a target group attached by a host rule. Wanting `running` is not enough. Reconcile
 * removes everything of a skipped environment (policy keeps it from deploying), keeps a failed commit
 * scaled to zero without a rule, and leaves one waiting for its image as it is, which is nothing when no
 * service or target group was ever made. Those hold nothing until a push, a label, a build or a retry
 * changes them, and each of those is followed by a reconcile that records the new state.
 *
 * The awake index is derived from this (so the sweep reads only these), and so is the capacity count.
 */
export function countsAsAwake(env: Environment): boolean {
  if (env.desired.phase !== 'running') return false;
  if (env.observed.phase === 'skipped' || currentFailure(env)) return false;
  const { serviceArn, targetGroupArn, ruleArn } = env.observed.resources;
  const holdsNothing = !serviceArn && !targetGroupArn && !ruleArn;
  // `pending` with a reason is reconcile's "held until the image exists"; without one, a reconcile is due.
  // `building` holds nothing until the images exist either.
  const held =
    env.observed.phase === 'building' ||
    (env.observed.phase === 'pending' && env.observed.reason !== undefined);
  return !(held && holdsNothing);
}

// zod/mini (tree-shakable, a fraction of classic zod in every bundle) ships no messages: English, as classic zod sets it.
if (!z.config().localeError) z.config(en());

export const pullRequestFactsSchema = z.object({
  branch: z.string().check(z.minLength(1)),
  headSha: z.string().check(z.regex(/^[0-9a-f]{7,64}$/)),
  baseSha: z.string().check(z.regex(/^[0-9a-f]{7,64}$/)),
  fork: z.boolean(),
  draft: z.boolean(),
  open: z.boolean(),
  merged: z.boolean(),
  labels: z.array(z.string()),
  updatedAt: z.iso.datetime({ offset: true }),
  labeledBy: z.optional(z.record(z.string(), z.string())),
  labeledAt: z.optional(z.record(z.string(), z.string())),
});
