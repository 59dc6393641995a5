import { newAccessSecret } from '../access/secret.ts';
import { desire } from '../environment/desire.ts';
import {
  type Environment,
  type EnvironmentId,
  environmentId,
  normalizeRepo,
  type PullRequestFacts,
} from '../environment/environment.ts';
import { slugCandidates } from '../environment/naming.ts';
import { forkLabel } from '../environment/policy.ts';
import { ConflictError } from '../errors.ts';
import type { Bus, Clock, EnvironmentStore, Logger, Settings } from '../ports.ts';
import { updateEnvironment } from './update.ts';

export interface PullRequestChange {
  repo: string;
  number: number;
  /** The webhook action, for the record (`opened`, `synchronize`, `closed`, …). */
  action: string;
  facts: PullRequestFacts;
  /** `repository.private` of the delivery, when it says: on a public repository no link token is published. */
  repoPrivate?: boolean;
}

export interface RecordDeps {
  store: EnvironmentStore;
  bus: Bus;
  clock: Clock;
  log: Logger;
  settings: Settings;
}

export type Outcome =
  | { status: 'recorded'; id: EnvironmentId; desired: Environment['desired']['phase'] }
  | { status: 'ignored'; id?: EnvironmentId; reason: string }
  /** Not done, and the sender should hear why: a push to a closed pull request. */
  | { status: 'refused'; id: EnvironmentId; reason: string };

/** What brings a closed pull request's environment back; anything else for it while closed is refused. */
const REOPENING = new Set(['opened', 'reopened']);

function newEnvironment(
  change: PullRequestChange,
  id: EnvironmentId,
  now: string,
): Omit<Environment, 'slug' | 'host' | 'version'> {
  return {
    id,
    repo: id.slice(0, id.indexOf('#')),
    number: change.number,
    pr: withLabelers(undefined, change.facts),
    desired: {
      phase: 'running',
      sha: change.facts.headSha,
      reason: `pull request ${change.action}`,
      since: now,
    },
    observed: { phase: 'pending', resources: {}, since: now },
    awakeSince: now,
    wakes: [],
    accessSecret: newAccessSecret(),
    repoPrivate: change.repoPrivate,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Later deliveries do not say who added a label; keep what earlier ones said, for labels still on. A
 * delivery that names who added a label was sent when the label was added, so its head is the commit the
 * label was given for.
 */
function withLabelers(before: PullRequestFacts | undefined, after: PullRequestFacts): PullRequestFacts {
  const still = (byLabel: Record<string, string>) =>
    Object.fromEntries(Object.entries(byLabel).filter(([label]) => after.labels.includes(label)));
  const labeledBy = still({ ...before?.labeledBy, ...after.labeledBy });
  if (!Object.keys(labeledBy).length) return { ...after, labeledBy: undefined, labeledAt: undefined };
  const given = Object.fromEntries(Object.keys(after.labeledBy ?? {}).map((label) => [label, after.headSha]));
  return { ...after, labeledBy, labeledAt: still({ ...before?.labeledAt, ...given }) };
}

/**
 * Whether `facts` take a fork's deploy label off: that withdraws every approval of its commits, a
 * `/matinee approve` included (the label's own, and a redeploy's, count only while it is on anyway).
 */
function labelRemoved(env: Environment, facts: PullRequestFacts): boolean {
  const label = forkLabel(env.policy);
  return env.pr.fork && env.pr.labels.includes(label) && !facts.labels.includes(label);
}

/**
 * Why the environment's access secret must change with `change`, if it must: a fork's approval withdrawn
 * (whoever was handed the link for reviewing it no longer should hold it), or a repository made public
 * (its comments, where the link was written, and their edit history, are public now).
 */
function rotation(env: Environment, change: PullRequestChange): string | undefined {
  if (labelRemoved(env, change.facts) && env.forkApproval) return 'fork approval withdrawn: new link';
  if (env.repoPrivate === true && change.repoPrivate === false) return 'repository made public: new link';
  return undefined;
}

/** Which way an open pull request's environment should go after `change`, or undefined to leave it. */
function desiredAfter(
  env: Environment,
  change: PullRequestChange,
): { phase: 'running' | 'deleted'; reason: string } | undefined {
  const { facts } = change;
  if (!facts.open) {
    return env.desired.phase === 'deleted'
      ? undefined
      : { phase: 'deleted', reason: facts.merged ? 'pull request merged' : 'pull request closed' };
  }
  if (env.desired.phase === 'deleted') return { phase: 'running', reason: `pull request ${change.action}` };
  const pushed = facts.headSha !== env.desired.sha;
  // Labels and draft state can open or close the deploy gate: look again, awake.
  // Who added a label counts too: a fork's label re-added by a maintainer approves what a reader's did not.
  const newLabeler = Object.entries(facts.labeledBy ?? {}).some(
    ([label, user]) => env.pr.labeledBy?.[label] !== user,
  );
  const gateInputs =
    facts.draft !== env.pr.draft || facts.labels.join('\n') !== env.pr.labels.join('\n') || newLabeler;
  if (pushed) return { phase: 'running', reason: `pushed ${facts.headSha.slice(0, 7)}` };
  if (gateInputs) return { phase: 'running', reason: `pull request ${change.action}` };
  return undefined;
}

/**
 * Records what a pull request event wants and asks for a reconcile. Never touches the cloud. A delivery
 * older than what is recorded (GitHub redelivers without ordering) changes nothing.
 */
export async function onPullRequest(deps: RecordDeps, change: PullRequestChange): Promise<Outcome> {
  const id = environmentId(change.repo, change.number);
  const now = deps.clock.now().toISOString();
  const existing = await deps.store.get(id);
  if (!existing) {
    if (!change.facts.open)
      return { status: 'ignored', id, reason: 'closed pull request without an environment' };
    try {
      await deps.store.create(
        newEnvironment(change, id, now),
        slugCandidates(id, change.facts.branch, change.number, deps.settings.domain),
        deps.settings.domain,
      );
    } catch (error) {
      // Another delivery created it first; fall through and treat this one as an update.
      if (!(error instanceof ConflictError)) throw error;
      return onPullRequest(deps, change);
    }
    await deps.bus.requestReconcile([id], `pull request ${change.action}`);
    deps.log.debug('environment created', { id, sha: change.facts.headSha });
    return { status: 'recorded', id, desired: 'running' };
  }

  type Recorded = { reason: string; reconcile: boolean; refused?: boolean };
  const { result, written, env } = await updateEnvironment<Recorded>(deps.store, id, (current) => {
    if (!current) throw new ConflictError(`environment ${id} vanished while recording`);
    if (Date.parse(change.facts.updatedAt) < Date.parse(current.pr.updatedAt)) {
      const reason = `stale delivery: pull request updated ${change.facts.updatedAt}, recorded ${current.pr.updatedAt}`;
      return { result: { reason, reconcile: false } };
    }
    // A closed pull request comes back only by being reopened: a push (the CLI's, or a delivery claiming the
    // pull request is open again without saying it was reopened) does not revive it behind its author's back.
    if (!current.pr.open && change.facts.open && !REOPENING.has(change.action)) {
      const reason = `${id} is closed: pull_request.${change.action} does not bring its preview back; reopen the pull request first`;
      return { result: { reason, reconcile: false, refused: true } };
    }
    const desired = desiredAfter(current, change);
    const rotate = rotation(current, change);
    const next: Environment = {
      ...current,
      pr: withLabelers(current.pr, change.facts),
      forkApproval: labelRemoved(current, change.facts) ? undefined : current.forkApproval,
      repoPrivate: change.repoPrivate ?? current.repoPrivate,
      accessSecret: rotate ? newAccessSecret() : current.accessSecret,
      updatedAt: now,
    };
    if (!desired) {
      const factsChanged =
        JSON.stringify(current.pr) !== JSON.stringify(next.pr) || next.repoPrivate !== current.repoPrivate;
      // A new secret must reach the host rule and the comment: that is reconcile's work.
      if (rotate) return { env: next, result: { reason: rotate, reconcile: true } };
      return factsChanged
        ? { env: next, result: { reason: 'facts updated', reconcile: false } }
        : { result: { reason: 'nothing changed', reconcile: false } };
    }
    return {
      env: desire(next, { ...desired, sha: change.facts.headSha }, now),
      result: { reason: desired.reason, reconcile: true },
    };
  });
  if (result.refused) {
    deps.log.warn(result.reason, { id, action: change.action });
    return { status: 'refused', id, reason: result.reason };
  }
  if (!written || !env) return { status: 'ignored', id, reason: result.reason };
  if (result.reconcile) await deps.bus.requestReconcile([id], result.reason);
  return { status: 'recorded', id, desired: env.desired.phase };
}

/** A deleted branch takes every open pull request environment of that branch with it. */
export async function onBranchDeleted(
  deps: RecordDeps,
  repo: string,
  branch: string,
): Promise<EnvironmentId[]> {
  const now = deps.clock.now().toISOString();
  const affected = (await deps.store.listByRepo(normalizeRepo(repo))).filter(
    (env) => env.pr.branch === branch && !env.pr.fork && env.desired.phase !== 'deleted',
  );
  const deleted: EnvironmentId[] = [];
  for (const { id } of affected) {
    const { written } = await updateEnvironment(deps.store, id, (current) =>
      current && current.desired.phase !== 'deleted'
        ? {
            env: desire(current, { phase: 'deleted', reason: `branch ${branch} deleted` }, now),
            result: undefined,
          }
        : { result: undefined },
    );
    if (written) deleted.push(id);
  }
  if (deleted.length) await deps.bus.requestReconcile(deleted, `branch ${branch} deleted`);
  return deleted;
}
