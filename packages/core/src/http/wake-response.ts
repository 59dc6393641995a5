import { retryFailed } from '../use-cases/retry.ts';
import { type WakeDeps, type WakeState, wake, wakeState } from '../use-cases/wake.ts';
import {
  failedPage,
  gonePage,
  notDeployedPage,
  type PageContext,
  STATUS_HEADER,
  unknownPage,
  wakingPage,
} from './pages.ts';

export const STATUS_PATH = '/__matinee/status';
export const RETRY_PATH = '/__matinee/retry';

export interface WakeHttpRequest {
  method: string;
  /** The Host header; a port is ignored. */
  host: string;
  /** Path and query, as requested. */
  path: string;
  accept?: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The wake path only records and asks for a reconcile, like every entry point: it never calls the cloud. */
export type WakeHttpDeps = WakeDeps;

const ROUTING = 'Started; routing requests to it…';

/** What a client should do next, as the waking page's script reads it from the status endpoint. */
export interface WakeStatus {
  state: WakeState['kind'];
  ready: boolean;
  elapsedSeconds: number;
  estimateSeconds: number;
  message: string;
}

const noStore = { 'cache-control': 'no-store, max-age=0' };

export function hostOnly(host: string): string {
  return host.trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
}

function context(host: string, state: WakeState): PageContext {
  if (state.kind === 'unknown') return { host };
  const { env } = state;
  return { host, title: `${env.repo}#${env.number}`, branch: env.pr.branch, sha: env.desired.sha };
}

/**
 * A failure's reason as the public link shows it: anyone who has the URL sees this page, so the account id
 * and ARNs in ECS's reasons (a `CannotPullContainerError` names the registry) are left to the pull request
 * and the dashboard, which show it whole.
 */
export function publicReason(reason: string): string {
  return reason.replace(/\barn:aws[\w-]*:[^\s,;)'"]*/g, 'arn:…').replace(/\b\d{12}\b/g, '…');
}

function statusOf(state: WakeState, now: Date): WakeStatus {
  // Never ready here: a status request that reaches Matinee means the app does not serve its host yet.
  const base = { state: state.kind, ready: false, elapsedSeconds: 0, estimateSeconds: 0 };
  switch (state.kind) {
    case 'unknown':
      return { ...base, message: 'No preview lives at this address.' };
    case 'gone':
      return { ...base, message: `${state.env.desired.reason}: the preview was removed.` };
    case 'skipped':
      return { ...base, message: state.reason };
    case 'failed':
      return { ...base, message: publicReason(state.reason) };
    case 'ready':
      return { ...base, message: ROUTING };
    case 'waking': {
      const elapsedSeconds = Math.max(0, Math.round((now.getTime() - Date.parse(state.startedAt)) / 1000));
      const note = state.note ? ` ${state.note}` : '';
      return {
        ...base,
        elapsedSeconds,
        estimateSeconds: state.estimateSeconds,
        message: `Usually takes about ${state.estimateSeconds} s · ${elapsedSeconds} s so far.${note}`,
      };
    }
  }
}

function wantsHtml(accept: string | undefined): boolean {
  return Boolean(accept?.includes('text/html'));
}

function html(status: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8', ...noStore, ...headers }, body };
}

function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...noStore, ...headers },
    body: JSON.stringify(value),
  };
}

/**
 * Answers a request that reached Matinee instead of an environment: the ALB's default rule on AWS, the
 * local router when the environment is not awake. Browsers get pages; other clients JSON with the right
 * status (503 + Retry-After while waking, 410 when gone, 404 when unknown).
 */
export async function respondToWake(deps: WakeHttpDeps, request: WakeHttpRequest): Promise<HttpResponse> {
  const host = hostOnly(request.host);
  const now = deps.clock.now();
  const pathname = request.path.split('?')[0];
  if (pathname === STATUS_PATH) {
    // Read-only: polling must not wake anything the page has not already woken.
    const env = await deps.store.getByHost(host);
    // The header tells the waking page this answer is Matinee's: once the host rule exists the app answers
    // this path instead, which is how the page knows the app is reachable.
    return json(200, statusOf(env ? wakeState(env, false) : { kind: 'unknown' }, now), {
      [STATUS_HEADER]: 'status',
    });
  }
  if (pathname === RETRY_PATH && request.method === 'POST') {
    const env = await deps.store.getByHost(host);
    if (env) await retryFailed(deps, env.id);
    return { status: 303, headers: { location: '/', ...noStore }, body: '' };
  }

  const state = await wake(deps, host);
  const status = statusOf(state, now);
  const page = context(host, state);
  const browser = wantsHtml(request.accept);
  switch (state.kind) {
    case 'unknown':
      return browser ? html(404, unknownPage(page)) : json(404, status);
    case 'gone':
      return browser ? html(410, gonePage(page, state.env.desired.reason)) : json(410, status);
    case 'skipped':
      return browser ? html(404, notDeployedPage(page, state.reason)) : json(404, status);
    case 'failed':
      return browser ? html(502, failedPage(page, publicReason(state.reason))) : json(502, status);
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
