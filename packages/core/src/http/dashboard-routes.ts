import { type DashboardAction, dashboardActions } from '../dashboard/actions.ts';
import { shareLink } from '../dashboard/share.ts';
import {
  type DashboardDeps,
  dashboardAction,
  environmentLogs,
  getEnvironmentView,
  listEnvironmentViews,
} from '../dashboard/view.ts';
import type { EnvironmentId } from '../environment/environment.ts';
import { dashboardPage } from './dashboard-page.ts';
import { noFraming } from './page-headers.ts';
import type { HttpResponse } from './wake-response.ts';

function json(status: number, value: unknown): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(value),
  };
}

/**
 * The dashboard and its JSON API, the same in both modes: `GET /`, `GET /api/environments`,
 * `GET /api/environments/:id`, `GET /api/environments/:id/logs`, `POST /api/environments/:id/<action>`, and
 * `POST /api/environments/:id/share?hours=24` (a time-limited link to a private preview). Undefined for any other path, which
 * the caller answers itself. Who may call it is the caller's to decide (see dashboard-access.ts).
 */
export async function respondToDashboard(
  deps: DashboardDeps,
  request: { method: string; path: string; title: string },
): Promise<HttpResponse | undefined> {
  const url = new URL(request.path, 'http://dashboard');
  const { method } = request;
  if (method === 'GET' && url.pathname === '/') {
    return {
      status: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        // Never inside another site's frame: a decoy over it would have the user's clicks press its buttons,
        // and those clicks come from the dashboard's own origin, which the same-origin check lets through.
        ...noFraming,
      },
      body: dashboardPage({ title: request.title }),
    };
  }
  if (method === 'GET' && url.pathname === '/api/environments')
    return json(200, await listEnvironmentViews(deps));
  const one = /^\/api\/environments\/([^/]+)(?:\/([a-z-]+))?$/.exec(url.pathname);
  if (!one?.[1]) return undefined;
  let id: EnvironmentId;
  try {
    id = decodeURIComponent(one[1]) as EnvironmentId;
  } catch {
    return json(400, { message: `not an environment id: ${one[1]}` });
  }
  if (method === 'GET' && !one[2]) {
    const view = await getEnvironmentView(deps, id);
    return view ? json(200, view) : json(404, { message: 'no such environment' });
  }
  if (method === 'POST' && one[2] === 'share') {
    const shared = await shareLink(deps, id, url.searchParams.get('hours'));
    return json(shared.status, 'url' in shared ? { url: shared.url, expiresAt: shared.expiresAt } : shared);
  }
  if (method === 'GET' && one[2] === 'logs') {
    const logs = await environmentLogs(deps, id);
    return logs ? json(200, logs) : json(404, { message: 'no such environment' });
  }
  if (method === 'POST' && one[2]) {
    if (!(dashboardActions as readonly string[]).includes(one[2]))
      return json(400, { message: `unknown action ${one[2]}; one of ${dashboardActions.join(', ')}` });
    const result = await dashboardAction(deps, id, one[2] as DashboardAction);
    return json(result.found ? 202 : 404, { message: result.message });
  }
  return json(405, { message: `${method} is not allowed here` });
}
