import { linkWithToken } from '../access/credentials.ts';
import { accessModeOf } from '../access/environment-access.ts';
import { shareToken } from '../access/secret.ts';
import type { EnvironmentId } from '../environment/environment.ts';
import { publicUrl } from '../ports.ts';
import type { DashboardDeps } from './view.ts';

export const DEFAULT_SHARE_HOURS = 24;
export const MAX_SHARE_HOURS = 30 * 24;

export type ShareOutcome =
  | { status: 201; url: string; expiresAt: string }
  | { status: 400 | 404; message: string };

/**
 * A time-limited link to a private preview, for a reviewer outside the repository: it opens the preview
 * (and sets its cookie, for as long as the link has left) until `hours` from now. Nothing is stored: the
 * token is an HMAC under the environment's secret, so `/matinee rotate-link` withdraws every share link.
 */
export async function shareLink(
  deps: Pick<DashboardDeps, 'store' | 'clock' | 'settings'>,
  id: EnvironmentId,
  hoursText: string | null,
): Promise<ShareOutcome> {
  const hours = hoursText === null ? DEFAULT_SHARE_HOURS : Number(hoursText);
  if (!/^\d{1,4}$/.test(hoursText ?? '24') || hours < 1 || hours > MAX_SHARE_HOURS)
    return { status: 400, message: `hours must be a whole number from 1 to ${MAX_SHARE_HOURS}` };
  const env = await deps.store.get(id);
  if (!env || env.desired.phase === 'deleted') return { status: 404, message: 'no such environment' };
  if (accessModeOf(env, deps.settings) === 'public' || !env.accessSecret)
    return { status: 400, message: 'this preview is public: its URL is all anyone needs' };
  const expires = new Date(deps.clock.now().getTime() + hours * 3_600_000);
  const token = shareToken(env.accessSecret, env.slug, expires);
  const url = linkWithToken(publicUrl(deps.settings, env.host), token);
  return { status: 201, url, expiresAt: new Date(Math.floor(expires.getTime() / 1000) * 1000).toISOString() };
}
