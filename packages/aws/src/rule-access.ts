import type { Rule, RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { MatineeError, type RuleAccess } from '@matinee/core';

/**
 * A private preview's host rule forwards only requests whose Cookie header holds its cookie: an `http-header`
 * condition matching `*<cookieName>=<secret>*`. The ALB compares header values ignoring case, which is why
 * the secret is lowercase hex (its case carries nothing to lose), and `*` and `?` are wildcards, which is
 * why neither may appear in the name or the secret: the two `*` are 2 of the 5 wildcards a rule may hold.
 */
const COOKIE_NAME = /^[a-z0-9_-]{1,80}$/;
const SECRET = /^[0-9a-f]{32,}$/;
/** AWS's limit on one condition value. */
const MAX_VALUE = 128;
const PATTERN = /^\*([a-z0-9_-]+)=([0-9a-f]+)\*$/;

export function cookieCondition(access: RuleAccess): RuleCondition {
  // A name or secret outside these would weaken the match (a wildcard) or be refused by AWS: never send it.
  if (!COOKIE_NAME.test(access.cookieName) || !SECRET.test(access.secret))
    throw new MatineeError(
      `cannot make a cookie condition for ${JSON.stringify(access.cookieName)}: the name must be [a-z0-9_-] and the secret lowercase hex of 32 or more digits`,
    );
  const value = `*${access.cookieName}=${access.secret}*`;
  if (value.length > MAX_VALUE)
    throw new MatineeError(
      `the cookie condition for ${access.cookieName} is ${value.length} characters; AWS takes at most ${MAX_VALUE}`,
    );
  return { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'Cookie', Values: [value] } };
}

function isCookieCondition(condition: RuleCondition): boolean {
  return (
    condition.Field === 'http-header' &&
    condition.HttpHeaderConfig?.HttpHeaderName?.toLowerCase() === 'cookie'
  );
}

/**
 * The cookie a rule requires, or undefined when it requires none. A Cookie condition not in Matinee's shape
 * reads as an access that matches no environment's, so reconcile rewrites it rather than trust it.
 */
export function accessOf(rule: Rule): RuleAccess | undefined {
  const condition = rule.Conditions?.find(isCookieCondition);
  if (!condition) return undefined;
  const values = condition.HttpHeaderConfig?.Values ?? [];
  const match = values.length === 1 ? PATTERN.exec(values[0]?.toLowerCase() ?? '') : null;
  return match ? { cookieName: match[1] ?? '', secret: match[2] ?? '' } : { cookieName: '', secret: '' };
}

/** One condition as a comparable string: AWS answers with `Values` beside the `*Config` it was given. */
function key(condition: RuleCondition): string {
  const lower = (values: string[] | undefined) => (values ?? []).map((value) => value.toLowerCase()).sort();
  switch (condition.Field) {
    case 'host-header':
      return `host|${lower(condition.HostHeaderConfig?.Values ?? condition.Values).join(',')}`;
    case 'http-header':
      return `header|${condition.HttpHeaderConfig?.HttpHeaderName?.toLowerCase()}|${lower(condition.HttpHeaderConfig?.Values).join(',')}`;
    case 'source-ip':
      return `ip|${lower(condition.SourceIpConfig?.Values).join(',')}`;
    default:
      return JSON.stringify(condition);
  }
}

/** Whether two rules' conditions match the same requests (ignoring order, and the case ALB ignores). */
export function sameConditions(a: RuleCondition[], b: RuleCondition[]): boolean {
  const keys = (conditions: RuleCondition[]) => conditions.map(key).sort().join('\n');
  return keys(a) === keys(b);
}
