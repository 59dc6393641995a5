import { withoutToken } from '../access/credentials.ts';
import { accessModeOf } from '../access/environment-access.ts';
import {
  decideCallback,
  decideFinish,
  decideGrant,
  decideSignInStart,
  nonceSetCookie,
  returnState,
  SIGN_IN_PATHS,
  type SignInRefusal,
  signInCodeOf,
} from '../access/sign-in-policy.ts';
import { CODE_SECONDS, newNonce } from '../access/sign-in-state.ts';
import type { Environment } from '../environment/environment.ts';
import {
  type Clock,
  type EnvironmentStore,
  type GithubSignIn,
  type Logger,
  publicUrl,
  type Settings,
  type SignInCodes,
} from '../ports.ts';
import type { GateResponse } from './access-gate.ts';
import { noFraming, noStore } from './page-headers.ts';
import { escapeHtml, layout } from './pages.ts';

type SiteSettings = Pick<Settings, 'domain' | 'scheme' | 'port' | 'access'>;

/** The longest page address a sign-in returns to (what a state accepts). */
const MAX_RETURN_PATH = 2048;

/** What a preview host needs of `github` mode: the key its states are signed with, and the one-time codes. */
export interface PreviewSignIn {
  /** `stateKey(clientSecret)`. */
  key: string;
  codes: SignInCodes;
}

/** The stage's sign-in routes, on its own domain. */
export interface SignInDeps extends PreviewSignIn {
  store: Pick<EnvironmentStore, 'getByHost'>;
  github: GithubSignIn;
  settings: SiteSettings;
  clock: Clock;
  log: Logger;
}

const messages: Record<SignInRefusal['reason'], string> = {
  'state-malformed': 'This sign-in link is not valid. Open the preview again to sign in.',
  'state-invalid': 'This sign-in link is not valid. Open the preview again to sign in.',
  'state-expired': 'This sign-in took too long and expired. Open the preview again to sign in.',
  nonce:
    'This sign-in was not started in this browser (or its cookie is gone). Open the preview again in this browser to sign in.',
  cancelled: 'The sign-in was cancelled on GitHub.',
  'code-malformed': 'This sign-in code is not valid. Open the preview again to sign in.',
  'code-unknown': 'This sign-in code was already used or has expired. Open the preview again to sign in.',
  'not-github-mode': 'This preview does not take GitHub sign-ins: open it with its link.',
  'no-permission': '',
};

function page(status: number, host: string, heading: string, body: string): GateResponse {
  return {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'referrer-policy': 'no-referrer',
      ...noStore,
      ...noFraming,
    },
    body: layout(heading, { host, viewer: 'public' }, body),
  };
}

/** A refusal's page: what went wrong and what to do, nothing of the preview or the repository. */
export function refusalPage(refusal: SignInRefusal, host: string, login?: string): GateResponse {
  if (refusal.reason === 'no-permission') {
    const who = login ? `as <strong>@${escapeHtml(login)}</strong>` : '';
    return page(
      403,
      host,
      'No access to this preview',
      `<p>You are signed in to GitHub ${who}, without a permission on the repository this preview belongs to.</p>
<p>Ask its owners for access to the repository, or for a share link.</p>`,
    );
  }
  return page(refusal.status, host, 'Sign-in did not work', `<p>${escapeHtml(messages[refusal.reason])}</p>`);
}

function redirect(status: 302 | 303, location: string, setCookie?: string): GateResponse {
  return {
    status,
    headers: {
      location,
      ...(setCookie ? { 'set-cookie': setCookie } : {}),
      'referrer-policy': 'no-referrer',
      ...noStore,
    },
    body: '',
  };
}

/** The one callback URL to register on the GitHub App: on the stage's own domain. */
export function callbackUrl(settings: Pick<Settings, 'domain' | 'scheme' | 'port'>): string {
  return `${publicUrl(settings, settings.domain)}${SIGN_IN_PATHS.callback}`;
}

/** Where a preview host sends a browser to sign in, for the page it asked for (its token taken out). */
export function signInUrl(
  signIn: PreviewSignIn,
  settings: Pick<Settings, 'domain' | 'scheme' | 'port'>,
  host: string,
  path: string,
  now: Date,
): string {
  // A page address longer than a state may carry lands on the preview's home page instead.
  const page = withoutToken(path) || '/';
  const state = returnState(signIn.key, host, page.length > MAX_RETURN_PATH ? '/' : page, now);
  return `${publicUrl(settings, settings.domain)}${SIGN_IN_PATHS.start}?state=${encodeURIComponent(state)}`;
}

/** Step 5 on a preview host: the one-time code, consumed once, sets the preview's cookie. */
export async function finishSignIn(
  signIn: PreviewSignIn,
  settings: Pick<Settings, 'access'>,
  env: Environment,
  request: { host: string; path: string; https: boolean; now: Date },
): Promise<GateResponse> {
  const code = signInCodeOf(request.path);
  const grant = code ? await signIn.codes.consume(code, request.now) : undefined;
  const finish = decideFinish({
    grant,
    host: request.host,
    mode: accessModeOf(env, settings),
    environment: { slug: env.slug, secret: env.accessSecret },
    https: request.https,
  });
  if (finish.kind === 'refuse') return refusalPage(finish, request.host);
  return redirect(303, finish.location, finish.setCookie);
}

function queryOf(path: string): URLSearchParams {
  const q = path.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : path.slice(q + 1));
}

/** The nonce cookie, spent: the sign-in it belonged to is over. */
function clearNonce(https: boolean): string {
  return nonceSetCookie(https, '', 0);
}

/** Steps 3 and 4: GitHub's callback. The code is exchanged only once state and nonce are checked. */
async function callback(deps: SignInDeps, path: string, cookie: string | undefined): Promise<GateResponse> {
  const { settings } = deps;
  const https = (settings.scheme ?? 'https') === 'https';
  const decision = decideCallback({
    key: deps.key,
    query: queryOf(path),
    cookie,
    https,
    now: deps.clock.now(),
  });
  if (decision.kind === 'refuse') return refusalPage(decision, settings.domain);
  const env = await deps.store.getByHost(decision.host);
  if (!env) return refusalPage({ kind: 'refuse', status: 400, reason: 'code-unknown' }, settings.domain);
  let result: Awaited<ReturnType<GithubSignIn['check']>>;
  try {
    result = await deps.github.check({
      code: decision.code,
      redirectUri: callbackUrl(settings),
      repo: env.repo,
    });
  } catch (error) {
    // The adapter's errors name the call and status, never the code or a token.
    deps.log.warn('github sign-in failed', {
      id: env.id,
      error: error instanceof Error ? error.message : 'unknown',
    });
    return page(
      502,
      settings.domain,
      'GitHub did not answer',
      '<p>GitHub did not finish the sign-in. Open the preview again in a moment to sign in.</p>',
    );
  }
  if (result.kind === 'refused')
    return refusalPage({ kind: 'refuse', status: 400, reason: 'code-unknown' }, settings.domain);
  const grant = decideGrant({
    mode: accessModeOf(env, settings),
    permission: result.permission,
    repoPrivate: env.repoPrivate,
  });
  deps.log.info('github sign-in', {
    id: env.id,
    login: result.login,
    permission: result.permission,
    admitted: grant.kind === 'grant',
  });
  if (grant.kind === 'refuse') return refusalPage(grant, settings.domain, result.login);
  const code = newNonce();
  await deps.codes.issue(
    code,
    { host: decision.host, path: decision.path },
    new Date(deps.clock.now().getTime() + CODE_SECONDS * 1000),
  );
  const finish = `${publicUrl(settings, decision.host)}${SIGN_IN_PATHS.finish}?code=${code}`;
  return redirect(303, finish, clearNonce(https));
}

/**
 * The stage's sign-in routes (`/__matinee/sign-in`, `/__matinee/github/callback`), answered before any
 * dashboard password: reviewers signing in have none. Undefined for every other path.
 */
export async function respondToSignIn(
  deps: SignInDeps,
  request: { method: string; path: string; cookie?: string },
): Promise<GateResponse | undefined> {
  const pathname = request.path.split('?')[0];
  if (pathname !== SIGN_IN_PATHS.start && pathname !== SIGN_IN_PATHS.callback) return undefined;
  const { settings } = deps;
  // GET only: a HEAD of the callback would spend GitHub's code as surely as a GET.
  if (request.method !== 'GET') return { status: 405, headers: { allow: 'GET', ...noStore }, body: '' };
  if (pathname === SIGN_IN_PATHS.callback) return callback(deps, request.path, request.cookie);
  const start = decideSignInStart({
    key: deps.key,
    state: queryOf(request.path).get('state') ?? undefined,
    https: (settings.scheme ?? 'https') === 'https',
    now: deps.clock.now(),
  });
  if (start.kind === 'refuse') return refusalPage(start, settings.domain);
  const location = deps.github.authorizeUrl({ redirectUri: callbackUrl(settings), state: start.state });
  return redirect(302, location, start.setCookie);
}
