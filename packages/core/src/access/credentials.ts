import type { RuleAccess } from '../ports.ts';
import { sameSecret } from './secret.ts';

/** Where a preview's credential travels: the `matinee_token` query parameter, then the preview's cookie. */

export const TOKEN_PARAM = 'matinee_token';
/** Link cookies last this long (a rotation ends them sooner: the secret no longer matches). */
export const LINK_COOKIE_SECONDS = 30 * 24 * 3600;

/**
 * The name of an environment's cookie: `matinee_<slug>`. The slug is the environment's DNS label
 * (`[a-z0-9-]`, at most 63 characters, unique among environments and fixed for the environment's life), so
 * the name is a valid cookie name, readable, and distinct per preview. The cookie is host-only as well: a
 * browser never sends one preview's cookie to another.
 */
export function cookieName(slug: string): string {
  return `matinee_${slug}`;
}

/**
 * Whether a Cookie header satisfies a host rule's cookie condition: what the ALB's `*<name>=<secret>*`
 * match decides, said exactly (the name whole, the value whole, compared in constant time).
 */
export function cookieAdmits(access: RuleAccess, header: string | undefined): boolean {
  return cookieValues(header, access.cookieName).some((value) => sameSecret(value, access.secret));
}

/** Every value the Cookie header gives `name` (a browser may send the same name twice). */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

/**
 * The Cookie header without `name`'s cookies, every other cookie as it was; undefined when nothing is left.
 * What the local router forwards to a preview's app: the preview's own cookie is Matinee's credential, not
 * the app's (on AWS the ALB forwards the header as it came, see README, access control).
 */
export function withoutCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return header;
  const kept = header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part && (part.includes('=') ? part.slice(0, part.indexOf('=')).trim() : part) !== name);
  return kept.length ? kept.join('; ') : undefined;
}

function paramName(pair: string): string {
  const raw = pair.split('=', 1)[0] ?? '';
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

function paramValue(pair: string): string {
  const eq = pair.indexOf('=');
  const raw = eq < 0 ? '' : pair.slice(eq + 1);
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/** Path and query split; the fragment never reaches a server. */
function split(path: string): { pathname: string; pairs: string[] } {
  const q = path.indexOf('?');
  if (q < 0) return { pathname: path, pairs: [] };
  return {
    pathname: path.slice(0, q),
    pairs: path
      .slice(q + 1)
      .split('&')
      .filter(Boolean),
  };
}

/** The `matinee_token` values of a request path (path and query). */
export function tokenValues(path: string): string[] {
  return split(path)
    .pairs.filter((pair) => paramName(pair) === TOKEN_PARAM)
    .map(paramValue);
}

/**
 * The path without its `matinee_token` parameters, every other parameter kept as it was written (not
 * re-encoded). What redirects point to, and the only form of a request path that may be logged.
 */
export function withoutToken(path: string): string {
  const { pathname, pairs } = split(path);
  const kept = pairs.filter((pair) => paramName(pair) !== TOKEN_PARAM);
  return kept.length ? `${pathname}?${kept.join('&')}` : pathname;
}

/** A full URL without its token, for logs that hold URLs. */
export function urlWithoutToken(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/i.exec(url);
  if (!match) return withoutToken(url);
  const [, origin = '', rest = ''] = match;
  const hash = rest.indexOf('#');
  const path = hash < 0 ? rest : rest.slice(0, hash);
  return `${origin}${withoutToken(path)}`;
}

/** `url` with the link's token appended: what people are given to open a private preview. */
export function linkWithToken(url: string, token: string): string {
  const link = new URL(url);
  link.searchParams.append(TOKEN_PARAM, token);
  return link.toString();
}

/**
 * The cookie a valid link sets: HttpOnly (scripts never read it), Secure over HTTPS, SameSite=Lax (sent
 * when following a link to the preview, not on other sites' subrequests), host-only (no Domain attribute:
 * never sent to another preview), for the whole site.
 */
export function accessCookie(name: string, secret: string, https: boolean, maxAgeSeconds: number): string {
  const attributes = [
    `${name}=${secret}`,
    'Path=/',
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    'HttpOnly',
    'SameSite=Lax',
  ];
  if (https) attributes.push('Secure');
  return attributes.join('; ');
}
