import {
  CONFIG_FILE,
  MatineeError,
  type OpenPullRequest,
  printable,
  type RepoPermission,
  type SourceArchive,
  type SourceControl,
  type StatusReport,
  TransientError,
} from '@matinee/core';
import { App } from '@octokit/app';
import { Octokit } from '@octokit/core';
import { RequestError } from '@octokit/request-error';
import { COMMENT_MARKER, renderComment } from './comment.ts';
import { downloadTarball } from './github-tarball.ts';

export type GithubAuth =
  /** A GitHub App: installation tokens are minted per repository and cached until shortly before expiry. */
  | { kind: 'app'; appId: string; privateKey: string }
  /** A token for one repository, for those who do not want an App (fine-grained PAT). */
  | { kind: 'token'; token: string };

export interface GithubOptions {
  auth: GithubAuth;
  /** For GitHub Enterprise Server, or a stand-in in tests. */
  baseUrl?: string;
  /** GitHub's web address, for links in the comment; by default derived from `baseUrl`. */
  webUrl?: string;
}

/** https://github.com for api.github.com; a GitHub Enterprise Server's own address for its `/api/v3`. */
export function webUrlOf(baseUrl: string): string {
  const url = new URL(baseUrl);
  if (url.hostname === 'api.github.com') return 'https://github.com';
  return `${url.origin}${url.pathname.replace(/\/api\/v3\/?$/, '').replace(/\/$/, '')}`;
}

type Client = InstanceType<typeof Octokit>;

/** An App installation's client, and the login of the bot user it writes as. */
interface Installation {
  client: Client;
  login: string;
}

/**
 * The deployment status each public state puts on the pull request; `removing` leaves the last one until
 * the removal is done, `waiting` the approved commit's while it still serves. Not deployed (a draft again,
 * a fork's label removed) has nothing left to view.
 */
const deploymentState: Partial<
  Record<StatusReport['state'], 'in_progress' | 'success' | 'failure' | 'inactive'>
> = {
  building: 'in_progress',
  waking: 'in_progress',
  ready: 'success',
  asleep: 'success',
  failed: 'failure',
  'not-deployed': 'inactive',
  removed: 'inactive',
};

function split(repo: string): { owner: string; repo: string } {
  const [owner = '', name = ''] = repo.split('/');
  return { owner, repo: name };
}

/** GitHub's own errors at this edge: rate limits and 5xx may pass, so the caller retries; the rest explain. */
function mapped(error: unknown, what: string): Error {
  if (error instanceof RequestError) {
    const limited =
      error.status === 429 ||
      (error.status === 403 && error.response?.headers['x-ratelimit-remaining'] === '0');
    if (limited || error.status >= 500)
      return new TransientError(`GitHub ${what}: ${error.status}`, { cause: error });
    return new MatineeError(`GitHub ${what}: ${error.status} ${error.message}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** The `SourceControl` port on GitHub's REST API, and the `SourceArchive` a build downloads its source from. */
export class GithubSourceControl implements SourceControl, SourceArchive {
  private readonly app?: App;
  private readonly single?: Client;
  private readonly installations = new Map<string, Promise<Installation>>();
  /** Token mode: the token's user, asked once. */
  private tokenUser?: Promise<string>;
  private readonly web: string;
  private readonly baseUrl: string;

  constructor(options: GithubOptions) {
    const baseUrl = options.baseUrl ?? 'https://api.github.com';
    this.baseUrl = baseUrl;
    this.web = options.webUrl ?? webUrlOf(baseUrl);
    const Configured = Octokit.defaults({ baseUrl, userAgent: 'matinee' });
    if (options.auth.kind === 'app') {
      this.app = new App({
        appId: options.auth.appId,
        privateKey: options.auth.privateKey,
        Octokit: Configured,
      });
    } else {
      this.single = new Configured({ auth: options.auth.token });
    }
  }

  private async client(repo: string): Promise<Client> {
    return this.single ?? (await this.installation(repo)).client;
  }

  private installation(repo: string): Promise<Installation> {
    const app = this.app as App;
    let installation = this.installations.get(repo);
    if (!installation) {
      installation = (async () => {
        const { data } = await app.octokit.request('GET /repos/{owner}/{repo}/installation', split(repo));
        const client = (await app.getInstallationOctokit(data.id)) as unknown as Client;
        // What GitHub shows as the author of whatever the App's installation writes.
        const slug = data.app_slug ?? (await app.octokit.request('GET /app')).data?.slug;
        if (!slug) throw new MatineeError('GitHub did not say what the App is called');
        return { client, login: `${slug}[bot]` };
      })();
      installation.catch(() => this.installations.delete(repo));
      this.installations.set(repo, installation);
    }
    return installation;
  }

  /** The login Matinee's own comments carry: the App's bot user, or the token's user. */
  private async self(repo: string): Promise<string> {
    if (!this.single) return (await this.installation(repo)).login;
    const client = this.single;
    if (!this.tokenUser) {
      this.tokenUser = client.request('GET /user').then(({ data }) => data.login);
      this.tokenUser.catch(() => {
        this.tokenUser = undefined;
      });
    }
    return this.tokenUser;
  }

  private async call<T>(repo: string, what: string, run: (client: Client) => Promise<T>): Promise<T> {
    try {
      return await run(await this.client(repo));
    } catch (error) {
      throw mapped(error, what);
    }
  }

  async readConfig(repo: string, sha: string): Promise<string | undefined> {
    return this.call(repo, `reading ${CONFIG_FILE}`, async (client) => {
      try {
        const { data } = await client.request('GET /repos/{owner}/{repo}/contents/{path}', {
          ...split(repo),
          path: CONFIG_FILE,
          ref: sha,
          mediaType: { format: 'raw' },
        });
        return String(data);
      } catch (error) {
        if (error instanceof RequestError && error.status === 404) return undefined;
        throw error;
      }
    });
  }

  /**
   * The commit's tarball, streamed (see github-tarball.ts), with the token the repository's other calls
   * carry: the installation's, which Octokit mints and caches. It never leaves this process.
   */
  async download(repo: string, sha: string, maxBytes: number): Promise<AsyncIterable<Uint8Array>> {
    const token = await this.call(repo, 'authenticating', async (client) => {
      const auth = (await (client.auth as (options: object) => Promise<unknown>)({
        type: 'installation',
      })) as {
        token?: unknown;
      };
      if (typeof auth.token !== 'string' || !auth.token) throw new MatineeError('GitHub gave no token');
      return auth.token;
    });
    return downloadTarball({ baseUrl: this.baseUrl, token, repo, sha, maxBytes });
  }

  async listOpenPullRequests(repo: string): Promise<OpenPullRequest[]> {
    return this.call(repo, 'listing pull requests', async (client) => {
      const open: OpenPullRequest[] = [];
      for (let page = 1; ; page++) {
        const { data } = await client.request('GET /repos/{owner}/{repo}/pulls', {
          ...split(repo),
          state: 'open',
          per_page: 100,
          page,
        });
        open.push(...data.map((pr) => ({ number: pr.number, headSha: pr.head.sha })));
        if (data.length < 100) return open;
      }
    });
  }

  async permission(repo: string, user: string): Promise<RepoPermission> {
    return this.call(repo, 'reading a permission', async (client) => {
      try {
        const { data } = await client.request(
          'GET /repos/{owner}/{repo}/collaborators/{username}/permission',
          {
            ...split(repo),
            username: user,
          },
        );
        const role = (data.role_name ?? data.permission) as string;
        return (['admin', 'maintain', 'write', 'triage', 'read'] as const).find((r) => r === role) ?? 'none';
      } catch (error) {
        if (error instanceof RequestError && error.status === 404) return 'none';
        throw error;
      }
    });
  }

  async publish(report: StatusReport): Promise<void> {
    await this.call(report.repo, 'updating the pull request', async (client) => {
      await this.upsertComment(client, report);
      await this.recordDeployment(client, report);
    });
  }

  async react(repo: string, commentId: number, reaction: '+1' | 'confused'): Promise<void> {
    await this.call(repo, 'reacting to a comment', async (client) => {
      await client.request('POST /repos/{owner}/{repo}/issues/comments/{comment_id}/reactions', {
        ...split(repo),
        comment_id: commentId,
        content: reaction,
      });
    });
  }

  /**
   * One comment per pull request, found by its marker and edited in place. Only a comment Matinee wrote
   * (authored by the App's bot user, or the token's user) counts: anyone can paste the marker into their
   * own comment, and the App may edit other people's comments, so a marker alone must never be enough.
   */
  private async upsertComment(client: Client, report: StatusReport): Promise<void> {
    const where = { ...split(report.repo), issue_number: report.number };
    const body = renderComment(report, { web: this.web });
    const self = await this.self(report.repo);
    for (let page = 1; ; page++) {
      const { data } = await client.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
        ...where,
        per_page: 100,
        page,
      });
      const mine = data.find(
        (comment) => comment.user?.login === self && comment.body?.startsWith(COMMENT_MARKER),
      );
      if (mine) {
        if (mine.body === body) return;
        await client.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', {
          ...split(report.repo),
          comment_id: mine.id,
          body,
        });
        return;
      }
      if (data.length < 100) break;
    }
    await client.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...where, body });
  }

  /** A transient deployment per pull request, one deployment per commit, a status per change. */
  private async recordDeployment(client: Client, report: StatusReport): Promise<void> {
    const state = deploymentState[report.state];
    if (!state) return;
    const repo = split(report.repo);
    const { data: existing } = await client.request('GET /repos/{owner}/{repo}/deployments', {
      ...repo,
      environment: report.environment,
      ...(state === 'inactive' ? {} : { sha: report.sha }),
      per_page: 1,
    });
    let id = existing[0] ? Number(existing[0].id) : undefined;
    if (!id) {
      if (state === 'inactive') return;
      const { data } = await client.request('POST /repos/{owner}/{repo}/deployments', {
        ...repo,
        ref: report.sha,
        environment: report.environment,
        transient_environment: true,
        production_environment: false,
        auto_merge: false,
        required_contexts: [],
        description: 'Matinee preview',
      });
      if (!('id' in data))
        throw new MatineeError(`GitHub did not create a deployment: ${JSON.stringify(data)}`);
      id = Number(data.id);
    }
    await client.request('POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses', {
      ...repo,
      deployment_id: id,
      state,
      environment_url: state === 'inactive' ? undefined : report.url,
      // Plain text on GitHub's side, but still nothing invisible; at most 140 characters.
      description: Array.from(printable(report.reason ?? report.state))
        .slice(0, 140)
        .join(''),
    });
  }
}
