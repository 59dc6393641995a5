import { accessModeOf } from '../access/environment-access.ts';
import { type AccessDecision, decideAccess, type PreviewState } from '../access/policy.ts';
import type { Environment } from '../environment/environment.ts';
import type { Settings } from '../ports.ts';
import { wakeState } from '../use-cases/wake.ts';
import { noFraming, noStore } from './page-headers.ts';
import { escapeHtml, layout, type PageContext } from './pages.ts';

export interface AccessGateRequest {
  /** Path and query, as requested. */
  path: string;
  /** The Cookie header. */
  cookie?: string;
  /** The preview's origin: `https://` makes the cookie Secure. */
  origin: string;
}

export interface GateResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function stateOf(env: Environment): PreviewState {
  const kind = wakeState(env, false).kind;
  if (kind === 'ready') return 'awake';
  if (kind === 'waking' || kind === 'failed') return kind;
  return 'asleep';
}

/** The access policy for a request to `env`'s host, with the stage's mode made stricter by the repository's. */
export function checkPreviewAccess(
  settings: Pick<Settings, 'access'> | undefined,
  env: Environment,
  request: AccessGateRequest,
  now: Date,
): AccessDecision {
  return decideAccess({
    mode: accessModeOf(env, settings ?? {}),
    state: stateOf(env),
    environment: { slug: env.slug, secret: env.accessSecret },
    path: request.path,
    cookie: request.cookie,
    https: request.origin.startsWith('https:'),
    now,
  });
}

/**
 * The 401 page: the host and where the link is found, nothing of the app or the pull request. The same
 * words whether the preview is awake, asleep or failed, so that it tells a stranger nothing.
 */
export function privatePage(context: PageContext, signInUrl?: string): string {
  const signIn = signInUrl
    ? `<p><a href="${escapeHtml(signInUrl)}"><button type="button">Sign in with GitHub</button></a></p>`
    : '';
  return layout(
    'This preview is private',
    { host: context.host, viewer: 'public' },
    `${signIn}<p>Open it with its link: it is on the Matinee dashboard and in <code>matinee ls</code>, and in the
pull request’s Matinee comment where that comment is private. The link lets this browser into this one
preview.</p>
<p class="muted">A link that stopped working was replaced (<code>/matinee rotate-link</code>): ask for the new one.</p>`,
  );
}

/** The answer to a request the policy did not allow: 401, or the redirect that sets the cookie. */
export function gateResponse(
  decision: Exclude<AccessDecision, { kind: 'allow' }>,
  host: string,
  browser: boolean,
  signInUrl?: string,
): GateResponse {
  if (decision.kind === 'redirect') {
    return {
      status: 303,
      headers: {
        location: decision.location,
        'set-cookie': decision.setCookie,
        // The token is in this request's URL: never let it travel on as a Referer.
        'referrer-policy': 'no-referrer',
        ...noStore,
      },
      body: '',
    };
  }
  const message = 'This preview is private: open it with its link.';
  return browser
    ? {
        status: 401,
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'referrer-policy': 'no-referrer',
          ...noStore,
          ...noFraming,
        },
        body: privatePage({ host, viewer: 'public' }, decision.signIn ? signInUrl : undefined),
      }
    : {
        status: 401,
        headers: { 'content-type': 'application/json', ...noStore },
        body: JSON.stringify({ state: 'private', message }),
      };
}
