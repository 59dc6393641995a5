import { formatDuration, parseDuration } from '../config/duration.ts';
import { refusedVariable } from '../config/variables.ts';

/** What someone with write access can ask of Matinee in a pull request comment. */
export type Command =
  | { kind: 'wake' }
  | { kind: 'sleep' }
  | { kind: 'redeploy' }
  | { kind: 'env-set'; key: string; value: string }
  | { kind: 'env-unset'; key: string }
  | { kind: 'keep-awake'; seconds: number }
  | { kind: 'help'; problem?: string };

export const MAX_KEEP_AWAKE_SECONDS = 7 * 86_400;
const envKey = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const COMMAND_HELP = [
  '`/matinee wake` — start the environment',
  '`/matinee sleep` — put it to sleep now',
  '`/matinee redeploy` — deploy the head commit again (also after a failure; on a fork, approves it)',
  '`/matinee env KEY=VALUE` — set a variable for this environment (an awake environment restarts with it; not for secrets)',
  '`/matinee env --unset KEY` — remove it',
  `\`/matinee keep-awake 4h\` — do not sleep for that long (at most ${formatDuration(MAX_KEEP_AWAKE_SECONDS)})`,
].join('\n');

/**
 * The command in a comment: its first line starting with `/matinee`. Undefined when the comment is not
 * addressed to Matinee; `help` (with the problem) when it is but makes no sense.
 */
export function parseCommand(body: string): Command | undefined {
  const line = body
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => /^\/matinee(\s|$)/.test(l));
  if (line === undefined) return undefined;
  const [verb = '', ...args] = line.split(/\s+/).slice(1);
  const problem = (text: string): Command => ({ kind: 'help', problem: text });
  switch (verb) {
    case 'wake':
    case 'sleep':
    case 'redeploy':
      return args.length ? problem(`\`${verb}\` takes no arguments`) : { kind: verb };
    case 'env': {
      if (args[0] === '--unset') {
        const key = args[1] ?? '';
        return envKey.test(key) && args.length === 2
          ? { kind: 'env-unset', key }
          : problem('usage: `/matinee env --unset KEY`');
      }
      const assignment = args.join(' ');
      const eq = assignment.indexOf('=');
      const key = assignment.slice(0, Math.max(0, eq));
      if (eq < 1 || !envKey.test(key)) return problem('usage: `/matinee env KEY=VALUE`');
      const refused = refusedVariable(key);
      if (refused) return problem(refused);
      return { kind: 'env-set', key, value: assignment.slice(eq + 1) };
    }
    case 'keep-awake': {
      const seconds = args.length === 1 ? parseDuration(args[0] ?? '') : undefined;
      if (!seconds) return problem('usage: `/matinee keep-awake 4h` (a duration like 90m, 4h, 1d)');
      if (seconds > MAX_KEEP_AWAKE_SECONDS)
        return problem(`at most ${formatDuration(MAX_KEEP_AWAKE_SECONDS)}`);
      return { kind: 'keep-awake', seconds };
    }
    case '':
    case 'help':
      return { kind: 'help' };
    default:
      return problem(`unknown command \`${verb}\``);
  }
}
