import type { Environment } from '../environment/environment.ts';
import { appLogTail } from '../logs/log-tail.ts';
import type { LogLocator, LogReader, Settings } from '../ports.ts';
import { retryFromLink } from '../use-cases/retry.ts';
import { type WakeDeps, type WakeOutcome, wake, wakeState } from '../use-cases/wake.ts';
import { checkPreviewAccess, gateResponse } from './access-gate.ts';
import { checkSameOriginAction } from './dashboard-access.ts';
import { noFraming, noStore } from './page-headers.ts';
import {
  type FailureDiagnosis,
  failedPage,
  gonePage,
  limitedPage,
  notDeployedPage,
  type PageContext,
  progressText,
  refusedPage,
  STATUS_HEADER,
  unknownPage,
  type Viewer,
  wakingPage,
} from './pages.ts';
import { environmentIdentifiers, publicReason } from './public-reason.ts';

export const STATUS_PATH = '/__matinee/status';
export const RETRY_PATH = '/__matinee/retry';

export interface WakeHttpRequest {
  method: string;
  /** The Host header; a port is ignored. */
  host: string;
  /** Path and query, as requested. */
  path: string;
  accept?: string;
  /** The preview's own origin as browsers name it (`https://<host>`; locally with the port). */
  origin: string;
  /** The request's headers with lowercase names: `origin` and `sec-fetch-site` are read for actions. */
  headers?: Record<string, string | undefined>;
  /**
   * The address the request came from, as the load balancer (or the local router's socket) saw it connect:
   * never a value the client wrote. Absent, only the per-preview limits apply.
   */
  client?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The wake path only records and asks for a reconcile, like every entry point: it never calls the cloud.
 * `settings.access` is the stage's access mode (`public` when unset): see `checkPreviewAccess`. With `logs`
 * (and the stage in `settings`), a failed preview's page shows an allowed viewer its app's last lines.
 */
export type WakeHttpDeps = WakeDeps & {
  settings?: Partial<Pick<Settings, 'access' | 'stage'>>;
  logs?: LogLocator | LogReader;
};

/** The health check and the last output of a failed environment, for an allowed viewer's failed page. */
async function diagnose(deps: WakeHttpDeps, env: Environment): Promise<FailureDiagnosis | undefined> {
  const stage = deps.settings?.stage;
  if (!stage) return undefined;
  const app = env.config?.status === 'ok' ? env.config.value.app : undefined;
  return {
    healthCheck: app && `GET ${app.health} on port ${app.port}`,
    tail: await appLogTail({ logs: deps.logs, settings: { stage }, log: deps.log }, env),
  };
}

const ROUTING = 'Started; routing requests to it…';

/** What a client should do next, as the waking page's script reads it from the status endpoint. */
export interface WakeStatus {
  state: WakeOutcome['kind'];
  ready: boolean;
  elapsedSeconds: number;
  estimateSeconds: number;
  message: string;
}

export function hostOnly(host: string): string {
  return host.trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
}

function context(host: string, env: Environment | undefined, viewer: Viewer): PageContext {
  // Nothing of the environment is even handed to the page for a public viewer.
  if (!env || viewer !== 'allowed') return { host, viewer };
  const about = { title: `${env.repo}#${env.number}`, branch: env.pr.branch, sha: env.desired.sha };
  return { host, viewer, about };
}

/**
 * The words each state is explained in, for a viewer. A public viewer gets none of the stored reasons but
 * a failure's, redacted: the others name branches, commits, users, labels and config paths.
 */
function explain(state: WakeOutcome, viewer: Viewer): string {
  const allowed = viewer === 'allowed';
  switch (state.kind) {
    case 'unknown':
      return 'No preview lives at this address.';
    case 'gone':
      return allowed
        ? `${state.env.desired.reason}: the preview was removed.`
        : 'This preview was removed, as happens when its pull request is closed.';
    case 'skipped':
      return allowed ? state.reason : 'This pull request is not deployed: the pull request says why.';
    case 'failed':
      return allowed ? state.reason : publicReason(state.reason, environmentIdentifiers(state.env));
    case 'ready':
      return ROUTING;
    case 'limited':
      return `Woken too often lately: try again in ${state.retryAfterSeconds} s.`;
    case 'waking':
      return '';
  }
}

function statusOf(state: WakeOutcome, viewer: Viewer, now: Date): WakeStatus {
  // Never ready here: a status request that reaches Matinee means the app does not serve its host yet.
  const base = { state: state.kind, ready: false, elapsedSeconds: 0, estimateSeconds: 0 };
  if (state.kind !== 'waking') return { ...base, message: explain(state, viewer) };
  const elapsedSeconds = Math.max(0, Math.round((now.getTime() - Date.parse(state.startedAt)) / 1000));
  const note = state.note ? ` ${state.note}` : '';
  return {
    ...base,
    elapsedSeconds,
    estimateSeconds: state.estimateSeconds,
    message: `${progressText(elapsedSeconds, state.estimateSeconds)}.${note}`,
  };
}

function wantsHtml(accept: string | undefined): boolean {
  return Boolean(accept?.includes('text/html'));
}

function html(status: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', ...noStore, ...noFraming, ...headers },
    body,
  };
}

function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...noStore, ...headers },
    body: JSON.stringify(value),
  };
}

function tooMany(
  page: PageContext,
  what: 'wake' | 'retry',
  retryAfterSeconds: number,
  browser: boolean,
  status: WakeStatus,
): HttpResponse {
  const headers = { 'retry-after': String(retryAfterSeconds) };
  return browser
    ? html(429, limitedPage(page, what, retryAfterSeconds), headers)
    : json(429, { ...status, retryAfterSeconds }, headers);
}

/**
 * The failed page's *Try again*. Any site could post this form from a visitor's browser, in a loop: only
 * the preview's own pages may (or a client that is no browser page at all), and each failure is retried
 * at most so often.
 */
async function retry(
  deps: WakeHttpDeps,
  request: WakeHttpRequest,
  host: string,
  viewer: Viewer,
): Promise<HttpResponse> {
  const browser = wantsHtml(request.accept);
  const page: PageContext = { host, viewer };
  const access = checkSameOriginAction({
    method: request.method,
    headers: request.headers ?? {},
    origin: request.origin,
  });
  if (!access.allowed) {
    const message = 'Only this preview’s own page can ask to try it again.';
    return browser ? html(403, refusedPage(page, message)) : json(403, { message });
  }
  const env = await deps.store.getByHost(host);
  if (env) {
    const outcome = await retryFromLink(deps, env);
    if ('limited' in outcome) {
      deps.log.warn('retry refused: over the limit', { id: env.id, retryAfterSeconds: outcome.limited });
      return tooMany(page, 'retry', outcome.limited, browser, {
        state: 'limited',
        ready: false,
        elapsedSeconds: 0,
        estimateSeconds: 0,
        message: `Tried again too often lately: try again in ${outcome.limited} s.`,
      });
    }
  }
  return { status: 303, headers: { location: '/', ...noStore }, body: '' };
}

/**
 * Answers a request that reached Matinee instead of an environment: the ALB's default rule on AWS, the
 * local router when the environment is not awake. Browsers get pages; other clients JSON with the right
 * status (503 + Retry-After while waking, 429 + Retry-After over the wake limits, 410 when gone, 404 when
 * unknown). First of all the access policy: a private preview answers 401 (or the redirect a valid link
 * gets) before anything is woken, retried or counted; what the pages say depends on the viewer it decides.
 */
export async function respondToWake(deps: WakeHttpDeps, request: WakeHttpRequest): Promise<HttpResponse> {
  const host = hostOnly(request.host);
  const now = deps.clock.now();
  const pathname = request.path.split('?')[0];
  const env = await deps.store.getByHost(host);
  let viewer: Viewer = 'public';
  if (env) {
    const decision = checkPreviewAccess(
      deps.settings,
      env,
      { path: request.path, cookie: request.headers?.cookie, origin: request.origin },
      now,
    );
    if (decision.kind !== 'allow') return gateResponse(decision, host, wantsHtml(request.accept));
    viewer = decision.viewer;
  }
  if (pathname === STATUS_PATH) {
    // Read-only: polling must not wake anything the page has not already woken, nor count against a limit.
    // The header tells the waking page this answer is Matinee's: once the host rule exists the app answers
    // this path instead, which is how the page knows the app is reachable.
    return json(200, statusOf(env ? wakeState(env, false) : { kind: 'unknown' }, viewer, now), {
      [STATUS_HEADER]: 'status',
    });
  }
  if (pathname === RETRY_PATH && request.method === 'POST') return retry(deps, request, host, viewer);

  const state = await wake(deps, host, request.client);
  const status = statusOf(state, viewer, now);
  const page = context(host, state.kind === 'unknown' ? undefined : state.env, viewer);
  const browser = wantsHtml(request.accept);
  switch (state.kind) {
    case 'unknown':
      return browser ? html(404, unknownPage(page)) : json(404, status);
    case 'gone':
      return browser ? html(410, gonePage(page, status.message)) : json(410, status);
    case 'skipped':
      return browser ? html(404, notDeployedPage(page, status.message)) : json(404, status);
    case 'failed': {
      if (!browser) return json(502, status);
      const diagnosis = viewer === 'allowed' ? await diagnose(deps, state.env) : undefined;
      return html(502, failedPage(page, status.message, diagnosis));
    }
    case 'limited':
      return tooMany(page, 'wake', state.retryAfterSeconds, browser, status);
    case 'ready':
      // Healthy, but the request still reached Matinee: its host rule is being added (wake() asked for the
      // reconcile that adds it). The page reloads into the app as soon as the app answers for the host.
      return browser
        ? html(200, wakingPage(page, { ...status, note: ROUTING }))
        : json(503, status, { 'retry-after': '2' });
    case 'waking': {
      const retryAfter = String(Math.min(30, Math.max(2, status.estimateSeconds - status.elapsedSeconds)));
      return browser
        ? html(200, wakingPage(page, { ...status, note: state.note }))
        : json(503, status, { 'retry-after': retryAfter });
    }
  }
}

/** What a lost request says while the environment is not (yet) recorded as failed. */
export const LOST_REASON =
  'The app stopped answering this request: it exited, or closed the connection before it replied.';

/**
 * A request the app was serving when it stopped answering (its process died, or it closed the connection
 * before its headers): the failed page with the same diagnosis as a failed start for an allowed viewer, and
 * JSON with 502 for other clients. Never a bare 502. The access policy decides the viewer as for any page.
 */
export async function respondToLostRequest(
  deps: WakeHttpDeps,
  request: WakeHttpRequest,
): Promise<HttpResponse> {
  const host = hostOnly(request.host);
  const env = await deps.store.getByHost(host);
  let viewer: Viewer = 'public';
  if (env) {
    const decision = checkPreviewAccess(
      deps.settings,
      env,
      { path: request.path, cookie: request.headers?.cookie, origin: request.origin },
      deps.clock.now(),
    );
    if (decision.kind === 'allow') viewer = decision.viewer;
  }
  const state = env ? wakeState(env, false) : undefined;
  const message = state?.kind === 'failed' ? explain(state, viewer) : LOST_REASON;
  if (!wantsHtml(request.accept))
    return json(502, { state: 'failed', ready: false, elapsedSeconds: 0, estimateSeconds: 0, message });
  const diagnosis = env && viewer === 'allowed' ? await diagnose(deps, env) : undefined;
  return html(502, failedPage(context(host, env, viewer), message, diagnosis, true));
}
