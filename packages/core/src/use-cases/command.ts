import { newAccessSecret } from '../access/secret.ts';
import { COMMANDS, type Command, commandLine, parseCommand } from '../commands/command.ts';
import { formatDuration } from '../config/duration.ts';
import { desire } from '../environment/desire.ts';
import {
  currentFailure,
  type Environment,
  environmentId,
  normalizeRepo,
} from '../environment/environment.ts';
import { WRITERS } from '../environment/permissions.ts';
import { approvalStands, forkLabel } from '../environment/policy.ts';
import { TransientError } from '../errors.ts';
import type { Bus, Clock, EnvironmentStore, Logger, SourceControl } from '../ports.ts';
import { environmentVolumes } from '../volumes/seed-once.ts';
import { updateEnvironment } from './update.ts';

export interface CommentCommand {
  repo: string;
  number: number;
  commentId: number;
  user: string;
  body: string;
  /** When GitHub says the comment was written: a command older than `MAX_COMMAND_AGE_SECONDS` is a replay. */
  createdAt?: string;
}

/**
 * A comment is obeyed at most once: its id is remembered this long (a delivery id alone is not enough: a
 * replayed delivery may carry a new one). Longer than `MAX_COMMAND_AGE_SECONDS`, so a replay arriving after
 * the id is forgotten is refused for its age instead.
 */
export const COMMENT_TTL_SECONDS = 14 * 86_400;
/** GitHub redelivers for a few days; a command comment older than this is not obeyed. */
export const MAX_COMMAND_AGE_SECONDS = 7 * 86_400;
/** How much of a command's line the environment keeps (and the comment shows). */
const KEPT_COMMAND_CHARACTERS = 200;

export interface CommandDeps {
  store: EnvironmentStore;
  source: SourceControl;
  bus: Bus;
  clock: Clock;
  log: Logger;
}

export type CommandOutcome =
  | { status: 'ignored' | 'deferred'; reason: string }
  | { status: 'refused' | 'done' | 'help'; reply: string };

/** The commands alone, for a one-line reply: the sticky comment carries the full help under Commands. */
export const SHORT_HELP = COMMANDS.map((command) => command.usage).join(', ');

/** What a command does to an environment (none: nothing), and the answer, in plain text. */
interface Applied {
  env?: Environment;
  reply: string;
  /** Nothing was done because the command cannot be obeyed as given: the comment gets a 😕. */
  refused?: boolean;
}

/**
 * When a change of `/matinee env` variables takes effect: reconcile renders them into the task at once, so
 * an awake environment gets a new revision right away and a sleeping (or failed) one the next time it starts.
 */
function whenApplied(env: Environment): string {
  return env.desired.phase === 'running' && !currentFailure(env)
    ? 'the environment restarts with it now'
    : 'applied when it next starts';
}

/**
 * The environment after `command`, and what to answer (plain text: whoever shows it escapes it). Pure.
 * `approver` is the GitHub user with write access who asked: their redeploy of a fork approves its head
 * commit, their approve the commit they name (the dashboard names nobody, so it cannot approve a fork's code).
 */
export function applyCommand(env: Environment, command: Command, now: string, approver?: string): Applied {
  // Its record stays a while (for the 410 page): a command must not bring a closed pull request back.
  if (!env.pr.open && command.kind !== 'help')
    return { reply: 'the pull request is closed: its environment is removed', refused: true };
  switch (command.kind) {
    case 'help':
      return {
        reply: `${command.problem ? `${command.problem}. ` : ''}Commands: ${SHORT_HELP} (details under Commands)`,
      };
    case 'wake':
      return env.desired.phase === 'running'
        ? { reply: 'already awake' }
        : { env: desire(env, { phase: 'running', reason: 'woken by a command' }, now), reply: 'waking up' };
    case 'sleep':
      return env.desired.phase === 'sleeping'
        ? { reply: 'already asleep' }
        : {
            env: {
              ...desire(env, { phase: 'sleeping', reason: 'put to sleep by a command' }, now),
              keepAwakeUntil: undefined,
            },
            reply: 'going to sleep',
          };
    case 'redeploy': {
      const sha = env.desired.sha;
      const approves = env.pr.fork && approver !== undefined;
      return {
        env: {
          ...desire(env, { phase: 'running', reason: 'redeploy requested' }, now),
          deployNonce: (env.deployNonce ?? 0) + 1,
          observed: { ...env.observed, failure: undefined, crashes: undefined },
          forkApproval: approves ? { user: approver, allowed: true, sha, via: 'redeploy' } : env.forkApproval,
        },
        reply: approves
          ? `approved ${sha.slice(0, 7)} from the fork; deploying it`
          : `redeploying ${sha.slice(0, 7)}`,
      };
    }
    case 'approve':
      return approve(env, command.sha, now, approver);
    case 'reset-data':
      return resetData(env, now, approver);
    case 'env-set':
      return {
        env: { ...env, overrides: { ...env.overrides, [command.key]: command.value }, updatedAt: now },
        reply: `${command.key} set; ${whenApplied(env)}`,
      };
    case 'env-unset': {
      if (!env.overrides || !(command.key in env.overrides)) return { reply: `${command.key} was not set` };
      const { [command.key]: _, ...overrides } = env.overrides;
      return {
        env: { ...env, overrides, updatedAt: now },
        reply: `${command.key} removed; ${whenApplied(env)}`,
      };
    }
    case 'rotate-link':
      // Reconcile then updates the host rule's cookie condition and the comment's link.
      return {
        env: { ...env, accessSecret: newAccessSecret(), updatedAt: now },
        reply: 'made a new link: the old one, and the cookies it set, no longer open the preview',
      };
    case 'keep-awake': {
      const until = new Date(Date.parse(now) + command.seconds * 1000).toISOString();
      const awake =
        env.desired.phase === 'running' ? env : desire(env, { phase: 'running', reason: 'keep-awake' }, now);
      return {
        env: { ...awake, keepAwakeUntil: until, updatedAt: now },
        reply: `awake for at least ${formatDuration(command.seconds)}`,
      };
    }
  }
}

/**
 * `/matinee reset-data` (and the dashboard's button): recorded, carried out by reconcile (asleep, emptied,
 * started again with the seed if it was awake). Said to do nothing when the config has no volumes.
 */
function resetData(env: Environment, now: string, approver?: string): Applied {
  const config = env.config?.status === 'ok' ? env.config.value : undefined;
  if (config && environmentVolumes(config).length === 0)
    return { reply: '.matinee.yml declares no volumes: there is no data to reset' };
  if (env.volumes?.reset) return { reply: 'already resetting its data' };
  return {
    env: {
      ...env,
      volumes: { ...env.volumes, reset: { at: now, by: approver ?? 'the dashboard' } },
      updatedAt: now,
    },
    reply:
      env.desired.phase === 'running'
        ? 'deleting the data in its volumes; it restarts and the seed runs again'
        : 'deleting the data in its volumes; the seed runs again when it next starts',
  };
}

/**
 * `/matinee approve <sha>`: approves exactly the fork's commit `prefix` names, and only when that is the
 * commit the pull request would deploy (its head): approving what a maintainer reviewed must never deploy
 * what the fork pushed since. A short sha is enough when it names one commit unambiguously.
 */
function approve(env: Environment, prefix: string, now: string, approver?: string): Applied {
  const refuse = (reply: string): Applied => ({ reply, refused: true });
  if (approver === undefined) return refuse("only a maintainer's comment can approve a fork's commit");
  if (!env.pr.fork) return refuse('this pull request is not from a fork: its commits need no approval');
  const head = env.desired.sha;
  const matches = [...new Set([head, env.pr.headSha])].filter((sha) => sha.startsWith(prefix));
  const short = (sha: string) => sha.slice(0, Math.max(7, prefix.length));
  if (matches.length > 1)
    return refuse(`${prefix} names more than one commit of this pull request: give more of the sha`);
  const [sha] = matches;
  if (sha === undefined) {
    return refuse(
      `${prefix} is not the head commit of this pull request, ${head.slice(0, 7)}: nothing approved. ` +
        `Review ${head.slice(0, 7)}, then comment /matinee approve ${head.slice(0, 7)}`,
    );
  }
  const labelled = env.pr.labels.includes(forkLabel(env.policy));
  const approval = env.forkApproval;
  if (approval?.allowed && approval.sha === sha && approvalStands(approval, labelled))
    return { reply: `${short(sha)} is already approved` };
  const awake =
    env.desired.phase === 'running' ? env : desire(env, { phase: 'running', reason: 'approved' }, now);
  return {
    env: { ...awake, forkApproval: { user: approver, allowed: true, sha, via: 'approve' }, updatedAt: now },
    reply: `approved ${short(sha)} from the fork; deploying it`,
  };
}

/**
 * A `/matinee …` comment on a pull request. Only users with write access are obeyed; everyone gets an
 * answer (a reaction, and the reply in the sticky comment). Each comment is obeyed at most once, however
 * often its event arrives (a replay may carry a new delivery id): its id is claimed first. When GitHub cannot
 * tell who may command right now (rate limit, 5xx), the command is kept with the environment and obeyed by
 * the next reconcile (`obeyPendingCommands`) instead of being lost with a failed delivery GitHub never
 * sends again.
 */
export async function onCommand(deps: CommandDeps, comment: CommentCommand): Promise<CommandOutcome> {
  const command = parseCommand(comment.body);
  if (!command) return { status: 'ignored', reason: 'not a /matinee command' };
  const id = environmentId(comment.repo, comment.number);
  const age = comment.createdAt ? deps.clock.now().getTime() - Date.parse(comment.createdAt) : 0;
  if (!(age <= MAX_COMMAND_AGE_SECONDS * 1000))
    return { status: 'ignored', reason: 'the comment is too old to be obeyed now (a replay?)' };
  if (!(await deps.store.get(id)))
    return { status: 'ignored', reason: 'no environment for this pull request' };
  const key = commentKey(comment.repo, comment.commentId);
  if (!(await deps.store.claimComment(key, COMMENT_TTL_SECONDS)))
    return { status: 'ignored', reason: 'this comment was already obeyed' };
  try {
    return await obey(deps, comment, command);
  } catch (error) {
    if (!(error instanceof TransientError)) {
      // Not obeyed: let GitHub's redelivery (or a retry) try it again.
      await deps.store.releaseComment(key).catch(() => {});
      throw error;
    }
    const { commentId, user } = comment;
    const body = commandLine(comment.body) ?? '';
    await updateEnvironment(deps.store, id, (current) =>
      current && !current.pendingCommands?.some((pending) => pending.commentId === commentId)
        ? {
            env: {
              ...current,
              pendingCommands: [...(current.pendingCommands ?? []), { commentId, user, body }],
            },
            result: undefined,
          }
        : { result: undefined },
    );
    deps.log.warn('command kept for later: GitHub cannot say who may give it', { id, error: error.message });
    await deps.bus.requestReconcile([id], 'command waiting for GitHub');
    return { status: 'deferred', reason: 'GitHub could not be asked who may give it; it runs once it can' };
  }
}

/** What the store remembers an obeyed comment by: GitHub's comment ids are unique across repositories. */
export function commentKey(repo: string, commentId: number): string {
  return `${normalizeRepo(repo)}/${commentId}`;
}

/**
 * Obeys the commands `onCommand` had to keep, oldest first, each removed once obeyed. GitHub still failing
 * throws (the bus retries, the resync asks again): the commands stay until GitHub answers.
 */
export async function obeyPendingCommands(deps: CommandDeps, env: Environment): Promise<void> {
  for (const pending of env.pendingCommands ?? []) {
    const comment = { repo: env.repo, number: env.number, ...pending };
    const command = parseCommand(pending.body);
    if (command) await obey(deps, comment, command);
    else await forget(deps, env.id, pending.commentId);
  }
}

async function forget(deps: CommandDeps, id: Environment['id'], commentId: number): Promise<void> {
  await updateEnvironment(deps.store, id, (current) =>
    current?.pendingCommands?.some((pending) => pending.commentId === commentId)
      ? { env: { ...current, pendingCommands: withoutPending(current, commentId) }, result: undefined }
      : { result: undefined },
  );
}

function withoutPending(env: Environment, commentId: number): Environment['pendingCommands'] {
  const left = (env.pendingCommands ?? []).filter((pending) => pending.commentId !== commentId);
  return left.length ? left : undefined;
}

async function obey(deps: CommandDeps, comment: CommentCommand, command: Command): Promise<CommandOutcome> {
  const id = environmentId(comment.repo, comment.number);
  const permission = await deps.source.permission(comment.repo, comment.user);
  const allowed = WRITERS.has(permission);
  const now = deps.clock.now().toISOString();
  const text = Array.from(commandLine(comment.body) ?? '')
    .slice(0, KEPT_COMMAND_CHARACTERS)
    .join('');
  const { result } = await updateEnvironment(deps.store, id, (current) => {
    if (!current) return { result: { reply: 'the environment is gone', changed: false, refused: true } };
    const applied: Applied = allowed
      ? applyCommand(current, command, now, comment.user)
      : {
          reply: `@${comment.user} needs write access to the repository to use Matinee commands`,
          refused: true,
        };
    const base = applied.env ?? current;
    const lastCommand = { user: comment.user, text, reply: applied.reply, at: now };
    const pendingCommands = withoutPending(base, comment.commentId);
    return {
      env: { ...base, lastCommand, pendingCommands },
      result: { reply: applied.reply, changed: Boolean(applied.env), refused: applied.refused === true },
    };
  });
  const ok = allowed && command.kind !== 'help' && !result.refused;
  try {
    await deps.source.react(comment.repo, comment.commentId, ok ? '+1' : 'confused');
  } catch (error) {
    deps.log.warn('could not react to a command', {
      id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
  // Reconcile also publishes the reply in the sticky comment.
  await deps.bus.requestReconcile([id], `command ${command.kind}`);
  if (!allowed || result.refused) return { status: 'refused', reply: result.reply };
  return { status: command.kind === 'help' ? 'help' : 'done', reply: result.reply };
}
