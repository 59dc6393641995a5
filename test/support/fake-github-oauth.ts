import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RepoPermission } from '@matinee/core';

/**
 * A stand-in for GitHub's web flow and the two REST calls sign-in makes, over real HTTP, answering as GitHub
 * documents: `/login/oauth/authorize` (here: signs in whoever `signInAs` named, no page), a code that works
 * once for the client and redirect URI it was issued to, `GET /user`, and the collaborator-permission API,
 * which on a public repository answers `read` for anyone (as GitHub does).
 */
export interface FakeRepo {
  private: boolean;
  /** Explicit roles, by login. */
  collaborators: Record<string, Exclude<RepoPermission, 'none'>>;
}

interface Issued {
  login: string;
  clientId: string;
  redirectUri: string;
}

const legacy: Record<string, string> = {
  admin: 'admin',
  maintain: 'write',
  write: 'write',
  triage: 'read',
  read: 'read',
};

export class FakeGithubOAuth {
  readonly clientId = 'Iv1.fakeclient0001';
  readonly clientSecret = `secret-${randomBytes(12).toString('hex')}`;
  readonly repos = new Map<string, FakeRepo>();
  /** Every user token handed out: for tests asserting none is logged or shown. */
  readonly tokens: string[] = [];
  /** Every path requested, in order. */
  readonly requests: string[] = [];
  private readonly codes = new Map<string, Issued>();
  private readonly users = new Map<string, string>();
  private user: string | undefined;
  private server: Server | undefined;
  url = '';

  /** Who the next authorizations sign in as; undefined: the user presses Cancel (`error=access_denied`). */
  signInAs(login: string | undefined): void {
    this.user = login;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error) => {
        response.writeHead(500).end(String(error));
      });
    });
    await new Promise<void>((ready) => this.server?.listen(0, '127.0.0.1', ready));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((done) => (this.server ? this.server.close(() => done()) : done()));
  }

  /** A code as GitHub's callback would carry it, for `login`, without a browser. */
  issueCode(login: string, redirectUri: string): string {
    const code = randomBytes(10).toString('hex');
    this.codes.set(code, { login, clientId: this.clientId, redirectUri });
    return code;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    this.requests.push(url.pathname);
    const json = (status: number, value: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };

    if (request.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const redirectUri = url.searchParams.get('redirect_uri') ?? '';
      if (url.searchParams.get('client_id') !== this.clientId)
        return json(404, { message: 'unknown client' });
      const back = new URL(redirectUri);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      if (this.user) back.searchParams.set('code', this.issueCode(this.user, redirectUri));
      else back.searchParams.set('error', 'access_denied');
      response.writeHead(302, { location: back.toString() }).end();
      return;
    }
    if (request.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, string>;
      const issued = this.codes.get(body.code ?? '');
      this.codes.delete(body.code ?? '');
      const fits =
        issued &&
        body.client_id === this.clientId &&
        body.client_secret === this.clientSecret &&
        body.redirect_uri === issued.redirectUri;
      if (!issued || !fits) return json(200, { error: 'bad_verification_code' });
      const token = `ghu_${randomBytes(18).toString('hex')}`;
      this.tokens.push(token);
      this.users.set(token, issued.login);
      return json(200, { access_token: token, token_type: 'bearer', scope: '' });
    }
    const login = this.users.get((request.headers.authorization ?? '').replace(/^(bearer|token) /i, ''));
    if (!login) return json(401, { message: 'Bad credentials' });
    if (request.method === 'GET' && url.pathname === '/user') return json(200, { login, id: 1 });
    const permission = /^\/repos\/([^/]+)\/([^/]+)\/collaborators\/([^/]+)\/permission$/.exec(url.pathname);
    if (request.method === 'GET' && permission) {
      const [, owner, name, user = ''] = permission;
      const repo = this.repos.get(`${owner}/${name}`);
      if (!repo) return json(404, { message: 'Not Found' });
      const role = repo.collaborators[decodeURIComponent(user)];
      if (role) return json(200, { permission: legacy[role], role_name: role, user: { login: user } });
      // GitHub: anyone may read a public repository; a private one is invisible to a stranger.
      if (!repo.private) return json(200, { permission: 'read', role_name: 'read', user: { login: user } });
      if (!repo.collaborators[login]) return json(404, { message: 'Not Found' });
      return json(200, { permission: 'none', role_name: 'none', user: { login: user } });
    }
    json(404, { message: 'Not Found' });
  }
}
