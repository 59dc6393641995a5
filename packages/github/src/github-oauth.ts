import type { GithubSignIn, GithubSignInResult, RepoPermission } from '@matinee/core';
import { MatineeError, TransientError } from '@matinee/core';
import { Octokit } from '@octokit/core';
import { RequestError } from '@octokit/request-error';
import { webUrlOf } from './github-source-control.ts';

export interface GithubOAuthOptions {
  /** The GitHub App's Client ID and a client secret of it. */
  clientId: string;
  clientSecret: string;
  /** GitHub's REST API (api.github.com unless GitHub Enterprise Server, or a stand-in in tests). */
  apiUrl?: string;
  /** Where GitHub's OAuth pages are (`/login/oauth/...`): by default GitHub's web address for `apiUrl`. */
  oauthUrl?: string;
  fetch?: typeof fetch;
}

const roles: readonly RepoPermission[] = ['admin', 'maintain', 'write', 'triage', 'read'];

/**
 * `GithubSignIn` with the GitHub App's own OAuth client: the web flow's code becomes a user access token
 * (POST /login/oauth/access_token), which asks GitHub who the user is (GET /user) and their permission on
 * the repository (GET /repos/{owner}/{repo}/collaborators/{username}/permission). The token lives in this
 * function's frame only: never returned, stored, or put in an error message.
 */
export class GithubOAuth implements GithubSignIn {
  private readonly apiUrl: string;
  private readonly oauthUrl: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: GithubOAuthOptions) {
    this.apiUrl = (options.apiUrl ?? 'https://api.github.com').replace(/\/$/, '');
    this.oauthUrl = (options.oauthUrl ?? webUrlOf(this.apiUrl)).replace(/\/$/, '');
    this.fetch = options.fetch ?? fetch;
  }

  authorizeUrl(input: { redirectUri: string; state: string }): string {
    const url = new URL(`${this.oauthUrl}/login/oauth/authorize`);
    url.searchParams.set('client_id', this.options.clientId);
    url.searchParams.set('redirect_uri', input.redirectUri);
    url.searchParams.set('state', input.state);
    // A GitHub App's user token needs no scopes: its reach is the App's permissions and the user's own.
    url.searchParams.set('allow_signup', 'false');
    return url.toString();
  }

  async check(input: { code: string; redirectUri: string; repo: string }): Promise<GithubSignInResult> {
    const token = await this.exchange(input.code, input.redirectUri);
    if (!token) return { kind: 'refused' };
    const client = new Octokit({ auth: token, baseUrl: this.apiUrl, request: { fetch: this.fetch } });
    try {
      const { data: user } = await client.request('GET /user');
      const login = String(user.login);
      return { kind: 'signed-in', login, permission: await permissionOf(client, input.repo, login) };
    } catch (error) {
      // Octokit's errors carry the request, headers included: only the status goes on.
      const status = error instanceof RequestError ? error.status : 0;
      if (status === 401) return { kind: 'refused' };
      const message = `GitHub did not answer who signed in (status ${status || 'none'})`;
      throw status >= 500 || status === 0 ? new TransientError(message) : new MatineeError(message);
    }
  }

  /** The user's token for `code`, or undefined when GitHub refuses the code (used, expired, another client's). */
  private async exchange(code: string, redirectUri: string): Promise<string | undefined> {
    let response: Response;
    try {
      response = await this.fetch(`${this.oauthUrl}/login/oauth/access_token`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: JSON.stringify({
          client_id: this.options.clientId,
          client_secret: this.options.clientSecret,
          code,
          redirect_uri: redirectUri,
        }),
      });
    } catch {
      throw new TransientError('GitHub could not be reached to finish the sign-in');
    }
    if (response.status >= 500) throw new TransientError(`GitHub answered ${response.status} to the sign-in`);
    const body = (await response.json().catch(() => undefined)) as { access_token?: unknown } | undefined;
    // GitHub says a bad code with 200 and `error: bad_verification_code`.
    const token = body?.access_token;
    return typeof token === 'string' && token.length > 0 ? token : undefined;
  }
}

/** The user's role on the repository; `none` when GitHub shows them none, or will not say (403, 404). */
async function permissionOf(client: Octokit, repo: string, login: string): Promise<RepoPermission> {
  const [owner = '', name = ''] = repo.split('/');
  try {
    const { data } = await client.request('GET /repos/{owner}/{repo}/collaborators/{username}/permission', {
      owner,
      repo: name,
      username: login,
    });
    const role = String(data.role_name ?? data.permission);
    const permission = String(data.permission);
    return roles.find((r) => r === role) ?? roles.find((r) => r === permission) ?? 'none';
  } catch (error) {
    if (error instanceof RequestError && (error.status === 403 || error.status === 404)) return 'none';
    throw error;
  }
}
