import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Comment {
  id: number;
  body: string;
  issue: number;
  /** Who wrote it: as GitHub answers, null for a deleted account. Planted comments may leave it out. */
  user?: { login: string; type: 'User' | 'Bot' } | null;
}

/** The App the stand-in plays: its installation writes as `<slug>[bot]`. */
export const APP_SLUG = 'matinee-preview';
/** The grant in the codeload address a tarball request is redirected to. */
export const CODELOAD_GRANT = 'CODELOADGRANT';
/** Who a personal access token belongs to (any `github_pat_…` token). */
export const TOKEN_USER = 'matinee-bot';

/**
 * A stand-in for api.github.com over real HTTP, holding comments, deployments and statuses in memory.
 * It answers only what Matinee calls, with GitHub's shapes, and can rate-limit or fail on demand.
 */
export class FakeGithub {
  readonly files = new Map<string, string>();
  readonly permissions = new Map<string, string>();
  readonly pulls: { number: number; head: { sha: string } }[] = [];
  readonly comments: Comment[] = [];
  readonly deployments: { id: number; sha: string; environment: string; transient: boolean }[] = [];
  readonly statuses: { deployment: number; state: string; environment_url?: string; description?: string }[] =
    [];
  readonly reactions: { comment: number; content: string }[] = [];
  readonly requests: { method: string; path: string; auth?: string }[] = [];
  /** Answer the next n requests with 403 rate-limited, or 502. */
  rateLimited = 0;
  failing = 0;
  tokensIssued = 0;
  /** Where `GET /repos/{repo}/tarball/{sha}` redirects to (GitHub's codeload); unset, tarballs are 404. */
  codeload?: string;
  private serial = 100;
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req)
        .then(([status, body, headers]) => {
          res.writeHead(status, {
            'content-type': typeof body === 'string' ? 'text/plain' : 'application/json',
            ...headers,
          });
          res.end(typeof body === 'string' ? body : JSON.stringify(body));
        })
        .catch((error) => res.writeHead(500).end(String(error)));
    });
    await new Promise<void>((ready) => this.server?.listen(0, '127.0.0.1', ready));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise((done) => this.server?.close(done));
  }

  private async body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
  }

  /** Who a request's credentials write as: the App's bot for installation tokens, the user for a PAT. */
  private author(authorization: string | undefined): Comment['user'] {
    if (authorization?.startsWith('token ghs_')) return { login: `${APP_SLUG}[bot]`, type: 'Bot' };
    if (authorization?.startsWith('token github_pat_')) return { login: TOKEN_USER, type: 'User' };
    return null;
  }

  private async handle(req: IncomingMessage): Promise<[number, unknown, Record<string, string>?]> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    this.requests.push({ method, path, auth: req.headers.authorization });
    if (this.rateLimited > 0) {
      this.rateLimited--;
      return [
        403,
        { message: 'API rate limit exceeded' },
        { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1' },
      ];
    }
    if (this.failing > 0) {
      this.failing--;
      return [502, { message: 'Server Error' }];
    }
    const json = method === 'GET' ? {} : await this.body(req);
    let m: RegExpExecArray | null;
    m = /^\/repos\/([^/]+\/[^/]+)\/installation$/.exec(path);
    if (m) return [200, { id: 4242, app_id: 1234, app_slug: APP_SLUG, account: { login: m[1] } }];
    if (path === '/user' && method === 'GET') {
      const author = this.author(req.headers.authorization);
      // As GitHub: an installation token is not a user.
      return author?.type === 'User'
        ? [200, { login: author.login, id: 7, type: 'User' }]
        : [403, { message: 'Resource not accessible by integration' }];
    }
    m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
    if (m && method === 'POST') {
      this.tokensIssued++;
      const expires = new Date(Date.now() + 3600_000).toISOString();
      return [
        201,
        {
          token: `ghs_installation${this.tokensIssued}`,
          expires_at: expires,
          permissions: {},
          repository_selection: 'all',
        },
      ];
    }
    m = /^\/repos\/([^/]+\/[^/]+)\/tarball\/([0-9a-f]{40})$/.exec(path);
    if (m && method === 'GET') {
      // As GitHub: a redirect to codeload, whose address carries its own short-lived grant.
      if (!this.codeload || !this.author(req.headers.authorization?.replace(/^Bearer /, 'token ')))
        return [404, { message: 'Not Found' }];
      return [
        302,
        '',
        { location: `${this.codeload}/${m[1]}/legacy.tar.gz/${m[2]}?token=${CODELOAD_GRANT}` },
      ];
    }
    m = /^\/repos\/([^/]+\/[^/]+)\/contents\/(.+)$/.exec(path);
    if (m) {
      const text = this.files.get(`${m[1]}@${url.searchParams.get('ref')}:${decodeURIComponent(m[2] ?? '')}`);
      return text === undefined ? [404, { message: 'Not Found' }] : [200, text];
    }
    m = /^\/repos\/([^/]+\/[^/]+)\/pulls$/.exec(path);
    if (m) {
      const page = Number(url.searchParams.get('page') ?? 1);
      const size = Number(url.searchParams.get('per_page') ?? 30);
      return [200, this.pulls.slice((page - 1) * size, page * size)];
    }
    m = /^\/repos\/([^/]+\/[^/]+)\/collaborators\/([^/]+)\/permission$/.exec(path);
    if (m) {
      const role = this.permissions.get(`${m[1]} ${m[2]}`);
      if (!role) return [404, { message: 'Not Found' }];
      const legacy = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
      return [200, { permission: legacy, role_name: role, user: { login: m[2] } }];
    }
    m = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(path);
    if (m) {
      const issue = Number(m[1]);
      if (method === 'POST') {
        const comment = {
          id: ++this.serial,
          body: String(json.body),
          issue,
          user: this.author(req.headers.authorization),
        };
        this.comments.push(comment);
        return [201, comment];
      }
      const page = Number(url.searchParams.get('page') ?? 1);
      const size = Number(url.searchParams.get('per_page') ?? 30);
      return [
        200,
        this.comments
          .filter((c) => c.issue === issue)
          .slice((page - 1) * size, page * size)
          .map((c) => ({ ...c, user: c.user ?? null })),
      ];
    }
    m = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(path);
    if (m && method === 'PATCH') {
      const comment = this.comments.find((c) => c.id === Number(m?.[1]));
      if (!comment) return [404, { message: 'Not Found' }];
      comment.body = String(json.body);
      return [200, comment];
    }
    m = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)\/reactions$/.exec(path);
    if (m) {
      this.reactions.push({ comment: Number(m[1]), content: String(json.content) });
      return [201, { id: ++this.serial, content: json.content }];
    }
    if (/^\/repos\/[^/]+\/[^/]+\/deployments$/.test(path)) {
      if (method === 'POST') {
        const deployment = {
          id: ++this.serial,
          sha: String(json.ref),
          environment: String(json.environment),
          transient: Boolean(json.transient_environment),
        };
        this.deployments.push(deployment);
        return [201, deployment];
      }
      const sha = url.searchParams.get('sha');
      const environment = url.searchParams.get('environment');
      const found = this.deployments
        .filter((d) => (!sha || d.sha === sha) && (!environment || d.environment === environment))
        .reverse();
      return [200, found.slice(0, Number(url.searchParams.get('per_page') ?? 30))];
    }
    m = /^\/repos\/[^/]+\/[^/]+\/deployments\/(\d+)\/statuses$/.exec(path);
    if (m && method === 'POST') {
      const status = {
        deployment: Number(m[1]),
        state: String(json.state),
        environment_url: json.environment_url as string | undefined,
        description: json.description as string | undefined,
      };
      this.statuses.push(status);
      return [201, { id: ++this.serial, ...status }];
    }
    return [404, { message: `fake GitHub has no ${method} ${path}` }];
  }
}
