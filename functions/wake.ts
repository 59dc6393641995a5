import { documentClient } from '@matinee/aws';
import {
  checkDashboardAccess,
  hostOnly,
  respondToDashboard,
  respondToSignIn,
  respondToWake,
} from '@matinee/core';
import { albClientAddress } from './lib/client-address.ts';
import { albEvent, albRequestPath } from './lib/events.ts';
import { type AlbResult, albResult } from './lib/http.ts';
import {
  type BasePart,
  basePart,
  linkedSettings,
  logsPart,
  once,
  type SignInPart,
  signInPart,
  type WakePart,
  wakePart,
} from './lib/platform.ts';

/** `logs` is the CloudWatch reader here (logsPart), so the failed page can show an app's last lines. */
type Deps = BasePart & WakePart & SignInPart;

/**
 * The ALB's default rule: every request whose host has no rule, i.e. sleeping, starting, failed, closed
 * or unknown previews, and the dashboard at the preview domain itself.
 */
export async function serveDefaultRule(platform: Deps, event: unknown): Promise<AlbResult> {
  const parsed = albEvent.safeParse(event);
  if (!parsed.success)
    return albResult({ status: 400, headers: { 'content-type': 'text/plain' }, body: 'not an ALB request' });
  const request = parsed.data;
  const host = hostOnly(request.headers.host ?? '');
  const path = albRequestPath(request);

  if (host === platform.settings.domain) {
    // Sign in with GitHub (`github` mode): reviewers have no dashboard password, so before it.
    const signIn =
      platform.signInRoutes &&
      (await respondToSignIn(platform.signInRoutes, {
        method: request.httpMethod,
        path,
        cookie: request.headers.cookie,
      }));
    if (signIn) return albResult(signIn);
    const access = checkDashboardAccess(
      { method: request.httpMethod, headers: request.headers, origin: `https://${host}` },
      platform.config.dashboardPassword ?? '',
    );
    if (!access.allowed)
      return albResult({
        status: access.status,
        headers: { 'content-type': 'text/plain; charset=utf-8', ...access.headers },
        body: access.message,
      });
    const page = await respondToDashboard(platform, {
      method: request.httpMethod,
      path,
      title: `Matinee · ${platform.settings.stage}`,
    });
    return albResult(page ?? { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found' });
  }

  return albResult(
    await respondToWake(platform, {
      method: request.httpMethod,
      host,
      path,
      accept: request.headers.accept,
      origin: `https://${host}`,
      headers: request.headers,
      client: albClientAddress(request.headers['x-forwarded-for']),
    }),
  );
}

const deps = once(() => {
  // The OAuth client is read only on a `github` stage (and required there).
  const config = linkedSettings({ dashboardPassword: true, oauth: true });
  // One client for the store, the limits' counters and the sign-in codes: they live in the same table.
  const dynamo = documentClient({ region: config.stage.region });
  const base = basePart(config, { dynamo });
  return {
    ...base,
    ...wakePart(config, { dynamo }),
    ...logsPart(config),
    ...signInPart(config, base, { dynamo }),
  };
});
export const handler = (event: unknown) => serveDefaultRule(deps(), event);
