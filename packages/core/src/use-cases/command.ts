import { COMMAND_HELP, type Command, parseCommand } from '../commands/command.ts';
import { formatDuration } from '../config/duration.ts';
import { desire } from '../environment/desire.ts';
import { currentFailure, type Environment, environmentId } from '../environment/environment.ts';
import { WRITERS } from '../environment/permissions.ts';
import { TransientError } from '../errors.ts';
import type { Bus, Clock, EnvironmentStore, Logger, SourceControl } from '../ports.ts';
import { updateEnvironment } from './update.ts';

export interface CommentCommand {
  repo: string;
  number: number;
  commentId: number;
  user: string;
  body: string;
}

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
export const SHORT_HELP = COMMAND_HELP.split('\n')
  .map((line) => line.split(' — ')[0])
  .join(', ');

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
 * The environment after `command`, and what to answer. Pure. `approver` is the GitHub user with write
 * access who asked: their redeploy of a fork approves its head commit (the dashboard names nobody, so it
 * cannot approve a fork's code).
 */
export function applyCommand(
  env: Environment,
  command: Command,
  now: string,
  approver?: string,
): { env?: Environment; reply: string } {
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
          forkApproval: approves ? { user: approver, allowed: true, sha } : env.forkApproval,
        },
        reply: approves
          ? `approved ${sha.slice(0, 7)} from the fork; deploying it`
          : `redeploying ${sha.slice(0, 7)}`,
      };
    }
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
 * A `/matinee …` comment on a pull request. Only users with write access are obeyed; everyone gets an
 * answer (a reaction, and the reply in the sticky comment). When GitHub cannot tell who may command right
 * now (rate limit, 5xx), the command is kept with the environment and obeyed by the next reconcile
 * (`obeyPendingCommands`) instead of being lost with a failed delivery GitHub never sends again.
 */
export async function onCommand(deps: CommandDeps, comment: CommentCommand): Promise<CommandOutcome> {
  const command = parseCommand(comment.body);
  if (!command) return { status: 'ignored', reason: 'not a /matinee command' };
  const id = environmentId(comment.repo, comment.number);
  if (!(await deps.store.get(id)))
    return { status: 'ignored', reason: 'no environment for this pull request' };
  try {
    return await obey(deps, comment, command);
  } catch (error) {
    if (!(error instanceof TransientError)) throw error;
    const { commentId, user, body } = comment;
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
  const text =
    comment.body
      .split(/\r?\n/)
      .find((line) => line.trim().startsWith('/matinee'))
      ?.trim() ?? '';
  const { result } = await updateEnvironment(deps.store, id, (current) => {
    if (!current) return { result: { reply: 'the environment is gone', changed: false } };
    const applied = allowed
      ? applyCommand(current, command, now, comment.user)
      : { reply: `@${comment.user} needs write access to the repository to use Matinee commands` };
    const base = applied.env ?? current;
    const lastCommand = { user: comment.user, text, reply: applied.reply, at: now };
    const pendingCommands = withoutPending(base, comment.commentId);
    return {
      env: { ...base, lastCommand, pendingCommands },
      result: { reply: applied.reply, changed: Boolean(applied.env) },
    };
  });
  const ok = allowed && command.kind !== 'help';
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
  if (!allowed) return { status: 'refused', reply: result.reply };
  return { status: command.kind === 'help' ? 'help' : 'done', reply: result.reply };
}
