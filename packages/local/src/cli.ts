import { createHash, randomUUID } from 'node:crypto';
import { Webhooks } from '@octokit/webhooks';

export const CLI_USAGE = `usage: npm run matinee -- <command>

  open  <owner/repo> <pr> <branch> [sha]   a pull request is opened
  push  <owner/repo> <pr> [sha]            a new commit is pushed to it
  close <owner/repo> <pr> [--merged]       it is closed (or merged)
  wake  <owner/repo> <pr>                  comment "/matinee wake" on it
  sleep <owner/repo> <pr>                  comment "/matinee sleep" on it
  ls                                       list environments

Each command sends the signed webhook GitHub would send to the Matinee started by \`npm start\`
(MATINEE_PORT, default 8080; MATINEE_WEBHOOK_SECRET, default the one \`npm start\` keeps in MATINEE_DATA_DIR).`;

export interface CliOptions {
  /** Where `npm start` listens, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  secret: string;
  print: (line: string) => void;
}

export class CliError extends Error {}

interface EnvironmentView {
  id: string;
  branch: string;
  sha: string;
  state: string;
  url: string;
  sleepsIn?: string;
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

function parsePr(repo: string | undefined, pr: string | undefined): { repo: string; number: number } {
  if (!repo || !/^[^/\s]+\/[^/\s]+$/.test(repo))
    throw new CliError(`expected <owner/repo>, got ${repo ?? 'nothing'}`);
  const number = Number(pr);
  if (!Number.isSafeInteger(number) || number < 1)
    throw new CliError(`expected a pull request number, got ${pr ?? 'nothing'}`);
  return { repo, number };
}

export async function runCli(argv: string[], options: CliOptions): Promise<void> {
  const [command, ...args] = argv;
  const webhooks = new Webhooks({ secret: options.secret });

  const request = async (path: string, init?: RequestInit) => {
    let response: Response;
    try {
      response = await fetch(`${options.baseUrl}${path}`, init);
    } catch (error) {
      throw new CliError(
        `Matinee is not answering at ${options.baseUrl} (is \`npm start\` running?): ${String(error)}`,
      );
    }
    const text = await response.text();
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!response.ok) throw new CliError(`${response.status}: ${String(body.message ?? text)}`);
    return body;
  };

  const send = async (event: string, payload: unknown) => {
    const body = JSON.stringify(payload);
    const answer = await request('/webhooks/github', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': event,
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': await webhooks.sign(body),
      },
      body,
    });
    const { status, ...rest } = answer;
    options.print(`${String(status)}${Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : ''}`);
  };

  const current = async (repo: string, number: number): Promise<EnvironmentView> => {
    const id = `${repo.toLowerCase()}#${number}`;
    return (await request(`/api/environments/${encodeURIComponent(id)}`)) as unknown as EnvironmentView;
  };

  switch (command) {
    case 'open': {
      const { repo, number } = parsePr(args[0], args[1]);
      const branch = args[2];
      if (!branch) throw new CliError('expected a branch name: open <owner/repo> <pr> <branch> [sha]');
      const sha = args[3] ?? madeUpSha(repo, String(number), branch, new Date().toISOString());
      await send('pull_request', pullRequestPayload('opened', repo, number, { branch, sha, open: true }));
      return;
    }
    case 'push': {
      const { repo, number } = parsePr(args[0], args[1]);
      const { branch } = await current(repo, number);
      const sha = args[2] ?? madeUpSha(repo, String(number), branch, new Date().toISOString());
      await send(
        'pull_request',
        pullRequestPayload('synchronize', repo, number, { branch, sha, open: true }),
      );
      return;
    }
    case 'close': {
      const { repo, number } = parsePr(args[0], args[1]);
      const { branch, sha } = await current(repo, number);
      const merged = args.includes('--merged');
      await send(
        'pull_request',
        pullRequestPayload('closed', repo, number, { branch, sha, open: false, merged }),
      );
      return;
    }
    case 'wake':
    case 'sleep': {
      const { repo, number } = parsePr(args[0], args[1]);
      await send('issue_comment', commentPayload(repo, number, `/matinee ${command}`));
      return;
    }
    case 'ls': {
      const list = (await request('/api/environments')) as unknown as EnvironmentView[];
      if (!list.length)
        return options.print('no environments yet: npm run matinee -- open acme/shop 42 fix-login');
      const rows = list.map((env) => [env.id, env.state, env.sha.slice(0, 7), env.url]);
      const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
      for (const row of rows) options.print(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '));
      return;
    }
    default:
      throw new CliError(command ? `unknown command ${command}\n\n${CLI_USAGE}` : CLI_USAGE);
  }
}
