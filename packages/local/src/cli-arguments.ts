export const CLI_USAGE = `usage: npm run matinee -- <command> [arguments]

  open  <owner/repo> <pr> <branch> [sha]   a pull request is opened
  push  <owner/repo> <pr> [sha]            a new commit is pushed to it
  close <owner/repo> <pr> [--merged]       it is closed (or merged)
  wake  <owner/repo> <pr>                  comment "/matinee wake" on it
  sleep <owner/repo> <pr>                  comment "/matinee sleep" on it
  ls    [--json]                           list environments (--json: the API's JSON, for scripts)
  logs  <owner/repo> <pr>                  why it failed, if it did, and its app's last lines of output
  help                                     this text (also -h, --help)

open, push, close, wake and sleep send the signed webhook GitHub would send to the Matinee started by \`npm start\` on
127.0.0.1:MATINEE_PORT (default 8080), signed with MATINEE_WEBHOOK_SECRET, by default the one
\`npm start\` keeps in MATINEE_DATA_DIR.

Exit status: 0 done, 1 Matinee refused or failed it, 2 a usage error (this text),
3 no Matinee answering at MATINEE_PORT (or no secret of one in MATINEE_DATA_DIR).`;

/** The exit statuses in CLI_USAGE and README. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

/** What the CLI says to the person at the keyboard, with the status it exits with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

const usage = (problem: string) => new CliError(`${problem}\n\n${CLI_USAGE}`, EXIT.usage);

interface CommandSpec {
  required: string[];
  optional: string[];
  flags: string[];
}

const PR = ['<owner/repo>', '<pr>'];
const COMMANDS: Record<string, CommandSpec> = {
  open: { required: [...PR, '<branch>'], optional: ['[sha]'], flags: [] },
  push: { required: PR, optional: ['[sha]'], flags: [] },
  close: { required: PR, optional: [], flags: ['--merged'] },
  wake: { required: PR, optional: [], flags: [] },
  sleep: { required: PR, optional: [], flags: [] },
  ls: { required: [], optional: [], flags: ['--json'] },
  logs: { required: PR, optional: [], flags: [] },
};

export type CommandLine =
  | { command: 'help' }
  | { command: 'open'; repo: string; number: number; branch: string; sha?: string }
  | { command: 'push'; repo: string; number: number; sha?: string }
  | { command: 'close'; repo: string; number: number; merged: boolean }
  | { command: 'wake' | 'sleep' | 'logs'; repo: string; number: number }
  | { command: 'ls'; json: boolean };

function repoOf(text: string): string {
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(text))
    throw usage(`expected <owner/repo>, got ${shown(text)}`);
  return text;
}

function numberOf(text: string): number {
  const number = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(number) || number < 1)
    throw usage(`expected a pull request number, got ${shown(text)}`);
  return number;
}

function shaOf(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9a-f]{7,40}$/i.test(text)) throw usage(`expected a commit sha (hex), got ${shown(text)}`);
  return text.toLowerCase();
}

function branchOf(text: string): string {
  // What git allows in a ref name, roughly: enough that a typo is caught here, not in a 400 from the webhook.
  if (!text || /^-|[\s\p{Cc}~^:?*[\\]|\.\.|@\{/u.test(text)) throw usage(`not a branch name: ${shown(text)}`);
  return text;
}

/** Arguments echo back into messages: printable and bounded, so a message stays one readable line. */
function shown(text: string): string {
  const safe = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(safe.length > 80 ? `${safe.slice(0, 80)}…` : safe);
}

/**
 * Reads the command line. Flags (`-x`, `--x`) are only ever flags: one the command does not take is a usage
 * error, never an argument; after `--`, everything is an argument. Throws a CliError with EXIT.usage.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const positional: string[] = [];
  const flags: string[] = [];
  let onlyArguments = false;
  for (const arg of argv) {
    if (!onlyArguments && arg === '--') onlyArguments = true;
    else if (!onlyArguments && /^-./.test(arg)) flags.push(arg);
    else positional.push(arg);
  }
  const [command, ...args] = positional;
  if (flags.includes('-h') || flags.includes('--help') || command === 'help') return { command: 'help' };
  if (command === undefined) throw usage('a command is needed');
  const spec = COMMANDS[command];
  if (!spec) throw usage(`unknown command ${shown(command)}`);
  const unknownFlag = flags.find((flag) => !spec.flags.includes(flag));
  if (unknownFlag) throw usage(`${command} does not take ${shown(unknownFlag)}`);
  if (args.length < spec.required.length)
    throw usage(`${command} needs ${spec.required.slice(args.length).join(' ')}`);
  const most = spec.required.length + spec.optional.length;
  if (args.length > most)
    throw usage(`${command} takes at most ${most} arguments; ${shown(args[most] ?? '')} is one too many`);

  const [first = '', second = '', third, fourth] = args;
  switch (command) {
    case 'open':
      return {
        command,
        repo: repoOf(first),
        number: numberOf(second),
        branch: branchOf(third ?? ''),
        sha: shaOf(fourth),
      };
    case 'push':
      return { command, repo: repoOf(first), number: numberOf(second), sha: shaOf(third) };
    case 'close':
      return { command, repo: repoOf(first), number: numberOf(second), merged: flags.includes('--merged') };
    case 'wake':
    case 'sleep':
    case 'logs':
      return { command, repo: repoOf(first), number: numberOf(second) };
    default:
      return { command: 'ls', json: flags.includes('--json') };
  }
}
