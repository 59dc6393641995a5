import type { GithubSignIn, GithubSignInResult, RepoPermission } from '@matinee/core';
import { MatineeError, TransientError } from '@matinee/core';
import { webUrlOf } from './web-url.ts';

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
    const user = await this.api(token, '/user');
    if (user.status === 401) return { kind: 'refused' };
    const login = (user.body as { login?: unknown } | undefined)?.login;
    if (user.status !== 200 || typeof login !== 'string' || !/^[A-Za-z0-9-]{1,39}$/.test(login))
      throw failure('who signed in', user.status);
    const [owner = '', name = ''] = input.repo.split('/');
    const path = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/collaborators/${encodeURIComponent(login)}/permission`;
    const answer = await this.api(token, path);
    // 404: GitHub shows the user no such repository; 403: it will not say. Either way, no permission.
    if (answer.status === 403 || answer.status === 404)
      return { kind: 'signed-in', login, permission: 'none' };
    if (answer.status !== 200) throw failure('the permission on the repository', answer.status);
    return { kind: 'signed-in', login, permission: permissionOf(answer.body) };
  }

  /** A GET on GitHub's REST API with the user's token; the token goes in the header and nowhere else. */
  private async api(token: string, path: string): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await this.fetch(`${this.apiUrl}${path}`, {
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${token}`,
          'x-github-api-version': '2022-11-28',
          'user-agent': 'matinee',
        },
      });
    } catch {
      throw new TransientError('GitHub could not be reached to finish the sign-in');
    }
    return { status: response.status, body: await response.json().catch(() => undefined) };
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

/** GitHub's answer as a role: `role_name` when it is a base role, else the legacy `permission`. */
function permissionOf(body: unknown): RepoPermission {
  const { role_name: role, permission } = (body ?? {}) as { role_name?: unknown; permission?: unknown };
  return roles.find((r) => r === role) ?? roles.find((r) => r === permission) ?? 'none';
}

function failure(what: string, status: number): Error {
  const message = `GitHub did not answer ${what} (status ${status})`;
  return status >= 500 || status === 429 ? new TransientError(message) : new MatineeError(message);
}
