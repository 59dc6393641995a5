import { createHash, timingSafeEqual } from 'node:crypto';

export type DashboardAccess =
  | { allowed: true }
  | { allowed: false; status: 401 | 403 | 404; headers: Record<string, string>; message: string };

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * Who may use the dashboard on AWS, where it is on the internet: HTTP Basic authentication with the
 * `DashboardPassword` secret (any user name), over HTTPS only. No password configured: the dashboard is
 * off. Actions (anything but GET) must also come from the dashboard's own pages: a browser sends Basic
 * credentials to any site that links here, so cross-site requests are refused (Sec-Fetch-Site / Origin).
 */
export function checkDashboardAccess(
  request: { method: string; headers: Record<string, string | undefined>; origin: string },
  password: string,
): DashboardAccess {
  if (!password)
    return {
      allowed: false,
      status: 404,
      headers: {},
      message: 'The dashboard is off: set the DashboardPassword secret to turn it on.',
    };
  const given = /^Basic\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1];
  const decoded = given ? Buffer.from(given, 'base64').toString('utf8') : '';
  const secret = decoded.slice(decoded.indexOf(':') + 1);
  // Compared as digests so that neither the length nor the content leaks through timing.
  if (!given || !decoded.includes(':') || !timingSafeEqual(sha256(secret), sha256(password)))
    return {
      allowed: false,
      status: 401,
      headers: { 'www-authenticate': 'Basic realm="Matinee", charset="UTF-8"' },
      message: 'Sign in with the dashboard password.',
    };
  return checkSameOriginAction(request);
}

/**
 * Actions (anything but GET and HEAD) only from the dashboard's own pages: any site a user has open can
 * send a form or fetch to it, locally to `localhost` as well as on AWS. Browsers say where a request comes
 * from (Sec-Fetch-Site, or Origin in older ones); a client that sends neither is not a browser page.
 */
export function checkSameOriginAction(request: {
  method: string;
  headers: Record<string, string | undefined>;
  origin: string;
}): DashboardAccess {
  if (request.method === 'GET' || request.method === 'HEAD') return { allowed: true };
  const site = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  const sameSite = site ? site === 'same-origin' : origin === undefined || origin === request.origin;
  return sameSite
    ? { allowed: true }
    : { allowed: false, status: 403, headers: {}, message: 'Actions come from the dashboard only.' };
}
