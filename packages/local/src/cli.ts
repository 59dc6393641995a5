import { createHash, randomUUID } from 'node:crypto';
import { Webhooks } from '@octokit/webhooks';
import { CLI_USAGE, CliError, type CommandLine, EXIT, parseCommandLine } from './cli-arguments.ts';
import { environmentTable, isListedEnvironment, type ListedEnvironment } from './environment-table.ts';
import { isEnvironmentLogs, logsText } from './logs-text.ts';

export interface CliOptions {
  /** Where `npm start` listens, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  /** What webhooks are signed with: needed by every command but `ls`. */
  secret?: string;
  print: (line: string) => void;
  /** For `ls`: how long until an environment sleeps. */
  now?: () => Date;
}

/** A commit id for a push made up on this machine: stable for the same input, 40 hex characters. */
function madeUpSha(...parts: string[]): string {
  return createHash('sha1').update(parts.join('\0')).digest('hex');
}

function pullRequestPayload(
  action: string,
  repo: string,
  number: number,
  pr: { branch: string; sha: string; open: boolean; merged?: boolean },
) {
  const repository = { full_name: repo, name: repo.split('/')[1], owner: { login: repo.split('/')[0] } };
  return {
    action,
    number,
    repository,
    sender: { login: 'you' },
    pull_request: {
      number,
      state: pr.open ? 'open' : 'closed',
      draft: false,
      merged: pr.merged ?? false,
      updated_at: new Date().toISOString(),
      labels: [],
      head: { ref: pr.branch, sha: pr.sha, repo: repository },
      base: { ref: 'main', sha: madeUpSha(repo, 'main'), repo: repository },
    },
  };
}

function commentPayload(repo: string, number: number, body: string) {
  return {
    action: 'created',
    repository: { full_name: repo },
    sender: { login: 'you' },
    issue: { number, pull_request: { url: `local/${repo}/pulls/${number}` } },
    comment: { id: Date.now(), body },
  };
}

/** Longest the CLI waits for Matinee to answer. */
const ANSWER_WITHIN_MS = 15_000;

/** Runs one command line against the Matinee at `options.baseUrl`; throws a CliError saying what went wrong. */
export async function runCli(argv: string[], options: CliOptions): Promise<void> {
  const command = parseCommandLine(argv);
  if (command.command === 'help') return options.print(CLI_USAGE);
  await runCommand(command, options);
}

export async function runCommand(
  command: Exclude<CommandLine, { command: 'help' }>,
  options: CliOptions,
): Promise<void> {
  const where = new URL(options.baseUrl).host;

  const request = async (path: string, init?: RequestInit): Promise<{ status: number; body: unknown }> => {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${options.baseUrl}${path}`, {
        ...init,
        signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
      });
      text = await response.text();
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      if (code === 'ECONNREFUSED')
        throw new CliError(
          `Nothing is listening on ${where} (MATINEE_PORT): start Matinee with \`npm start\`, or set MATINEE_PORT to its port`,
          EXIT.unreachable,
        );
      const why =
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${ANSWER_WITHIN_MS / 1000} s`
          : (code ?? String(error));
      throw new CliError(`Matinee on ${where} (MATINEE_PORT) did not answer: ${why}`, EXIT.unreachable);
    }
    try {
      return { status: response.status, body: JSON.parse(text) as unknown };
    } catch {
      throw new CliError(
        `Something on ${where} (MATINEE_PORT) answered HTTP ${response.status}, but not as Matinee does: is MATINEE_PORT the port \`npm start\` printed?`,
        EXIT.unreachable,
      );
    }
  };

  /** The API's answer, or a CliError with its message (which Matinee wrote for people). */
  const answer = async (path: string, init?: RequestInit): Promise<unknown> => {
    const { status, body } = await request(path, init);
    if (status >= 400) {
      const message = (body as { message?: unknown } | null)?.message;
      const said = typeof message === 'string' ? message : JSON.stringify(body);
      // It may quote stored values: no control characters reach the terminal.
      throw new CliError(`Matinee refused it (${status}): ${said.replace(/\p{Cc}/gu, '?')}`);
    }
    return body;
  };

  const send = async (event: string, payload: unknown) => {
    if (!options.secret) throw new CliError('no webhook secret to sign with (MATINEE_WEBHOOK_SECRET)');
    const webhooks = new Webhooks({ secret: options.secret });
    const body = JSON.stringify(payload);
    const answered = await answer('/webhooks/github', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': event,
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': await webhooks.sign(body),
      },
      body,
    });
    const { status, ...rest } = (answered ?? {}) as Record<string, unknown>;
    // Accepted, but not done (a push to a closed pull request, a command it cannot obey): a refusal, exit 1.
    if (status === 'refused') {
      const why = typeof rest.reason === 'string' ? rest.reason : rest.reply;
      const said = typeof why === 'string' ? why : JSON.stringify(rest);
      throw new CliError(`Matinee refused it: ${said.replace(/\p{Cc}/gu, '?')}`);
    }
    options.print(`${String(status)}${Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : ''}`);
  };

  const current = async (repo: string, number: number): Promise<{ branch: string; sha: string }> => {
    const id = `${repo.toLowerCase()}#${number}`;
    const { status, body } = await request(`/api/environments/${encodeURIComponent(id)}`);
    if (status === 404)
      throw new CliError(
        `${repo}#${number} is not known to this Matinee: open it first (open ${repo} ${number} <branch>)`,
      );
    if (
      status >= 400 ||
      !isListedEnvironment(body) ||
      typeof (body as { branch?: unknown }).branch !== 'string'
    )
      throw new CliError(`Matinee did not describe ${repo}#${number} (${status})`);
    return body as ListedEnvironment & { branch: string };
  };

  const newSha = (repo: string, number: number, branch: string) =>
    madeUpSha(repo, String(number), branch, new Date().toISOString());

  switch (command.command) {
    case 'open': {
      const { repo, number, branch } = command;
      const sha = command.sha ?? newSha(repo, number, branch);
      await send('pull_request', pullRequestPayload('opened', repo, number, { branch, sha, open: true }));
      return;
    }
    case 'push': {
      const { repo, number } = command;
      const { branch } = await current(repo, number);
      const sha = command.sha ?? newSha(repo, number, branch);
      await send(
        'pull_request',
        pullRequestPayload('synchronize', repo, number, { branch, sha, open: true }),
      );
      return;
    }
    case 'close': {
      const { repo, number, merged } = command;
      const { branch, sha } = await current(repo, number);
      await send(
        'pull_request',
        pullRequestPayload('closed', repo, number, { branch, sha, open: false, merged }),
      );
      return;
    }
    case 'wake':
    case 'sleep': {
      const { repo, number } = command;
      await send('issue_comment', commentPayload(repo, number, `/matinee ${command.command}`));
      return;
    }
    case 'logs': {
      const { repo, number } = command;
      const id = `${repo.toLowerCase()}#${number}`;
      const { status, body } = await request(`/api/environments/${encodeURIComponent(id)}/logs`);
      if (status === 404)
        throw new CliError(
          `${repo}#${number} is not known to this Matinee: npm run matinee -- ls lists them`,
        );
      if (status >= 400 || !isEnvironmentLogs(body))
        throw new CliError(`Matinee did not give the output of ${repo}#${number} (${status})`);
      for (const line of logsText(`${repo}#${number}`, body)) options.print(line);
      return;
    }
    case 'ls': {
      const list = await answer('/api/environments');
      if (!Array.isArray(list) || !list.every(isListedEnvironment))
        throw new CliError(
          `Something on ${where} (MATINEE_PORT) answered, but not with a list of environments`,
          EXIT.unreachable,
        );
      if (command.json) return options.print(JSON.stringify(list, null, 2));
      if (!list.length)
        return options.print('no environments yet: npm run matinee -- open acme/shop 42 fix-login');
      for (const line of environmentTable(list, options.now?.() ?? new Date())) options.print(line);
      return;
    }
  }
}
