import { formatDuration, parseDuration } from '../config/duration.ts';
import { refusedVariable } from '../config/variables.ts';

/** What someone with write access can ask of Matinee in a pull request comment. */
export type Command =
  | { kind: 'wake' }
  | { kind: 'sleep' }
  | { kind: 'redeploy' }
  /** Empty the environment's volumes; the seed runs again at the next start. */
  | { kind: 'reset-data' }
  /** `sha`: lowercase hex, at least 7 characters: the whole sha or a prefix of it. */
  | { kind: 'approve'; sha: string }
  | { kind: 'env-set'; key: string; value: string }
  | { kind: 'env-unset'; key: string }
  | { kind: 'keep-awake'; seconds: number }
  /** A new access secret: the old link (and every cookie and share link made from it) stops working. */
  | { kind: 'rotate-link' }
  /** `problem` is plain text (it may quote the comment): whoever renders it escapes it. */
  | { kind: 'help'; problem?: string };

export const MAX_KEEP_AWAKE_SECONDS = 7 * 86_400;
const envKey = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Git's object names: 40 hex digits (SHA-1) or 64 (SHA-256); at least 7 to name a commit of a pull request. */
const shaPrefix = /^[0-9a-f]{7,64}$/i;

/** Every command, as the comment's Commands section and the README's table show them. */
export const COMMANDS: readonly { usage: string; does: string }[] = [
  { usage: '/matinee wake', does: 'start the environment' },
  { usage: '/matinee sleep', does: 'put it to sleep now' },
  {
    usage: '/matinee approve <sha>',
    does: "deploy exactly that commit of a fork's pull request, once you have reviewed it (a short sha is fine)",
  },
  {
    usage: '/matinee redeploy',
    does: 'deploy the head commit again (also after a failure; on a fork, approves whatever the head is now)',
  },
  {
    usage: '/matinee reset-data',
    does: "delete the data in the environment's volumes; the seed runs again when it next starts",
  },
  {
    usage: '/matinee env KEY=VALUE',
    does: 'set a variable for this environment (an awake environment restarts with it; not for secrets)',
  },
  { usage: '/matinee env --unset KEY', does: 'remove it' },
  {
    usage: '/matinee keep-awake 4h',
    does: `do not sleep for that long (at most ${formatDuration(MAX_KEEP_AWAKE_SECONDS)})`,
  },
  {
    usage: '/matinee rotate-link',
    does: 'make a new secret link for a private preview; the old link and its cookies stop working',
  },
];

/** The commands as Markdown lines (our own text, no user input), for the sticky comment. */
export const COMMAND_HELP = COMMANDS.map(({ usage, does }) => `\`${usage}\` — ${does}`).join('\n');

/** The line of a comment that is addressed to Matinee, trimmed; undefined when there is none. */
export function commandLine(body: string): string | undefined {
  return body
    .split(/\r\n?|\n/)
    .map((line) => line.trim())
    .find((line) => /^\/matinee(\s|$)/.test(line));
}

/** How many characters of an unknown verb a reply quotes back. */
const QUOTED_VERB = 40;

/**
 * The command in a comment: its first line starting with `/matinee`. Undefined when the comment is not
 * addressed to Matinee; `help` (with the problem) when it is but makes no sense. A lone carriage return
 * ends a line, as it does for GitHub's Markdown.
 */
export function parseCommand(body: string): Command | undefined {
  const line = commandLine(body);
  if (line === undefined) return undefined;
  const [verb = '', ...args] = line.split(/\s+/).slice(1);
  const problem = (text: string): Command => ({ kind: 'help', problem: text });
  switch (verb) {
    case 'wake':
    case 'sleep':
    case 'redeploy':
    case 'rotate-link':
    case 'reset-data':
      return args.length ? problem(`${verb} takes no arguments`) : { kind: verb };
    case 'approve': {
      const [sha = ''] = args;
      return args.length === 1 && shaPrefix.test(sha)
        ? { kind: 'approve', sha: sha.toLowerCase() }
        : problem('usage: /matinee approve <sha>, with at least 7 characters of the commit you reviewed');
    }
    case 'env': {
      if (args[0] === '--unset') {
        const key = args[1] ?? '';
        return envKey.test(key) && args.length === 2
          ? { kind: 'env-unset', key }
          : problem('usage: /matinee env --unset KEY');
      }
      const assignment = args.join(' ');
      const eq = assignment.indexOf('=');
      const key = assignment.slice(0, Math.max(0, eq));
      if (eq < 1 || !envKey.test(key)) return problem('usage: /matinee env KEY=VALUE');
      const refused = refusedVariable(key);
      if (refused) return problem(refused);
      return { kind: 'env-set', key, value: assignment.slice(eq + 1) };
    }
    case 'keep-awake': {
      const seconds = args.length === 1 ? parseDuration(args[0] ?? '') : undefined;
      if (!seconds) return problem('usage: /matinee keep-awake 4h (a duration like 90m, 4h, 1d)');
      if (seconds > MAX_KEEP_AWAKE_SECONDS)
        return problem(`at most ${formatDuration(MAX_KEEP_AWAKE_SECONDS)}`);
      return { kind: 'keep-awake', seconds };
    }
    case '':
    case 'help':
      return { kind: 'help' };
    default: {
      const quoted = Array.from(verb);
      return problem(
        `unknown command "${quoted.slice(0, QUOTED_VERB).join('')}${quoted.length > QUOTED_VERB ? '…' : ''}"`,
      );
    }
  }
}
