import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  checkSameOriginAction,
  cookieName,
  type DashboardDeps,
  type HttpResponse,
  hostOnly,
  respondToDashboard,
  respondToLostRequest,
  respondToSignIn,
  respondToWake,
  type SignInDeps,
  type WakeHttpDeps,
  type WakeHttpRequest,
  withoutCookie,
} from '@matinee/core';
import { fromBrowser } from './browser-request.ts';
import type { ProcessCloud } from './process-cloud.ts';

export interface RouterDeps {
  cloud: ProcessCloud;
  wake: WakeHttpDeps;
  dashboard: DashboardDeps;
  /** `github` mode's sign-in routes on `localhost` (absent in other modes). */
  signIn?: SignInDeps;
  /** `POST /webhooks/github`: the same receiver as the Lambda, given lowercase headers and the raw body. */
  webhook: (headers: Record<string, string | undefined>, body: string) => Promise<HttpResponse>;
  /** Largest webhook body accepted (GitHub caps payloads at 25 MB). */
  maxBodyBytes?: number;
}

const apexHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

function send(response: ServerResponse, result: HttpResponse): void {
  response.writeHead(result.status, result.headers).end(result.body);
}

function json(status: number, value: unknown): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(value),
  };
}

async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function headersOf(request: IncomingMessage): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(', ') : value,
    ]),
  );
}

/**
 * Matinee's own pages and API, on the bare `localhost` host: loopback only, so no sign-in locally, but
 * actions only from the dashboard itself (any web page the user has open can post to localhost).
 */
async function control(deps: RouterDeps, request: IncomingMessage): Promise<HttpResponse> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const method = request.method ?? 'GET';
  if (method === 'GET' && url.pathname === '/healthz') return json(200, { ok: true });
  if (method === 'POST' && url.pathname === '/webhooks/github') {
    // GitHub never sends these: a web page posting here is refused before anything is read.
    if (fromBrowser(request.headers))
      return json(403, { message: 'webhooks come from GitHub, not from web pages' });
    return deps.webhook(headersOf(request), await readBody(request, deps.maxBodyBytes ?? 25 * 1024 * 1024));
  }
  // GitHub's redirect back is a cross-site navigation: answered before the same-origin rule for actions.
  const signIn =
    deps.signIn &&
    (await respondToSignIn(deps.signIn, {
      method,
      path: request.url ?? '/',
      cookie: request.headers.cookie,
    }));
  if (signIn) return signIn;
  const access = checkSameOriginAction({
    method,
    headers: headersOf(request),
    origin: `http://${request.headers.host ?? 'localhost'}`,
  });
  if (!access.allowed) return json(access.status, { message: access.message });
  const dashboard = await respondToDashboard(deps.dashboard, {
    method,
    path: request.url ?? '/',
    title: 'Matinee (local)',
  });
  return dashboard ?? json(404, { message: 'not found' });
}

/** A request for a preview as the wake path reads it. */
function wakeRequest(request: IncomingMessage, host: string): WakeHttpRequest {
  return {
    method: request.method ?? 'GET',
    host,
    path: request.url ?? '/',
    accept: request.headers.accept,
    origin: `http://${request.headers.host ?? host}`,
    headers: headersOf(request),
    client: request.socket.remoteAddress,
  };
}

/**
 * The Cookie header a preview's app is given: without the preview's own access cookie (`matinee_<slug>`, the
 * slug being the host's first label), which is Matinee's credential and no business of the app's. The ALB
 * cannot do this on AWS (README, access control).
 */
function appCookie(header: string | undefined, host: string): string | undefined {
  return withoutCookie(header, cookieName(host.split('.')[0] ?? host));
}

/**
 * Streams a request to the environment's process, as the ALB would. Either side going away ends the
 * other: a closed browser tab must not leave a stream open to the app, nor a dead app a hanging response.
 * An app that dies (or hangs up) before it answers gets the failed page in its place, with what it last
 * wrote for a viewer allowed to see it: never a bare 502.
 */
function proxy(
  deps: RouterDeps,
  request: IncomingMessage,
  response: ServerResponse,
  port: number,
  host: string,
): void {
  const { cookie, ...headers } = request.headers;
  const forwarded = appCookie(cookie, host);
  const upstream = httpRequest(
    {
      host: '127.0.0.1',
      port,
      method: request.method,
      path: request.url,
      headers: {
        ...headers,
        ...(forwarded ? { cookie: forwarded } : {}),
        'x-forwarded-for': request.socket.remoteAddress ?? '',
        'x-forwarded-proto': 'http',
      },
    },
    (reply) => {
      response.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(response);
      reply.on('error', () => response.destroy());
      reply.on('aborted', () => response.destroy());
    },
  );
  upstream.on('error', async (error) => {
    // After the headers, nothing else can be said: cut the response so the client sees it broke.
    if (response.headersSent) return response.destroy();
    if (response.destroyed) return;
    deps.wake.log.warn(`${host}: the app stopped answering a request`, { error: error.message });
    try {
      send(response, await respondToLostRequest(deps.wake, wakeRequest(request, host)));
    } catch (failure) {
      deps.wake.log.error('local router failed', {
        host,
        error: failure instanceof Error ? failure.message : String(failure),
      });
      if (!response.headersSent) send(response, json(502, { message: 'the preview stopped answering' }));
    }
  });
  response.on('close', () => {
    if (!response.writableFinished) upstream.destroy();
  });
  request.pipe(upstream);
}

/** An HTTP answer written straight to a socket: for upgrade requests, which have no ServerResponse. */
function writeRaw(socket: Duplex, result: HttpResponse): void {
  const reason = STATUS_CODES[result.status] ?? '';
  const headers = {
    ...result.headers,
    'content-length': String(Buffer.byteLength(result.body)),
    connection: 'close',
  };
  const lines = [
    `HTTP/1.1 ${result.status} ${reason}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${result.body}`);
}

/**
 * One HTTP server for everything local: `http://localhost:<port>/` is Matinee (dashboard, API, webhooks);
 * `http://<slug>.localhost:<port>/` is a preview, proxied to its process when awake (WebSockets and
 * streams included) and answered by the same wake path as on AWS when not.
 */
export function createRouter(deps: RouterDeps): Server {
  const server = createServer(async (request, response) => {
    const host = hostOnly(request.headers.host ?? 'localhost');
    try {
      if (apexHosts.has(host)) return send(response, await control(deps, request));
      // A private preview's rule forwards only with its cookie; the rest takes the wake path, which applies
      // the whole access policy (the link's redirect, or 401) before anything else.
      const port = deps.cloud.route(host, request.headers.cookie);
      if (port) {
        deps.cloud.countRequest(host);
        return proxy(deps, request, response, port, host);
      }
      send(response, await respondToWake(deps.wake, wakeRequest(request, host)));
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500;
      deps.wake.log.error('local router failed', {
        host,
        error: error instanceof Error ? error.message : String(error),
      });
      if (!response.headersSent)
        send(
          response,
          json(status, { message: status === 500 ? 'internal error' : (error as Error).message }),
        );
    }
  });
  server.on('upgrade', async (request, socket, head) => {
    const host = hostOnly(request.headers.host ?? '');
    const port = apexHosts.has(host) ? undefined : deps.cloud.route(host, request.headers.cookie);
    if (!port) {
      // Asleep or starting: the same wake path as any request (a sleeping preview wakes), answered the way
      // non-browser clients are, 503 with Retry-After, so a WebSocket client knows to come back.
      socket.on('error', () => socket.destroy());
      try {
        const path = request.url ?? '/';
        const answer = apexHosts.has(host)
          ? json(404, { message: 'not found' })
          : await respondToWake(deps.wake, {
              method: 'GET',
              host,
              path,
              origin: `http://${request.headers.host ?? host}`,
              headers: headersOf(request),
              client: request.socket.remoteAddress,
            });
        return writeRaw(socket, answer);
      } catch (error) {
        deps.wake.log.error('local router failed', {
          host,
          error: error instanceof Error ? error.message : String(error),
        });
        return writeRaw(socket, json(500, { message: 'internal error' }));
      }
    }
    deps.cloud.countRequest(host);
    const upstream = connect(port, '127.0.0.1', () => {
      const lines = [`${request.method} ${request.url} HTTP/${request.httpVersion}`];
      for (let i = 0; i < request.rawHeaders.length; i += 2) {
        const [name = '', value = ''] = [request.rawHeaders[i], request.rawHeaders[i + 1]];
        const kept = name.toLowerCase() === 'cookie' ? appCookie(value, host) : value;
        if (kept !== undefined) lines.push(`${name}: ${kept}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    const close = () => {
      upstream.destroy();
      socket.destroy();
    };
    upstream.on('error', close);
    socket.on('error', close);
  });
  return server;
}
