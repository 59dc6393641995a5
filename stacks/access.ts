import { LINKS } from '../functions/lib/settings.ts';
import { type AccessMode, parseAccessMode } from '../packages/core/src/access/mode.ts';
import { type Cidr, parseCidr } from './cidr.ts';

/** Who may open previews, from where, and whether the load balancer is internal (in the user's private subnets). */
export interface AccessInput {
  mode: AccessMode;
  /** The only address ranges the load balancer admits; any address when absent. */
  allowCidrs?: Cidr[];
  internal: boolean;
}

/** A security group holds 60 inbound rules per address family by default, and each range takes two (80, 443). */
export const MAX_ALLOW_CIDRS = 30;

/**
 * Reads MATINEE_ACCESS (link unless set: on AWS a preview's host is public DNS), MATINEE_ALLOW_CIDRS and
 * MATINEE_INTERNAL; each problem names its variable. `env` is the deploy's environment, where `sst deploy`
 * puts the secrets (SST_SECRET_<name>, which sst.Secret reads): a github-mode stage without its OAuth client
 * fails here, before anything is created or changed.
 */
export function parseAccess(
  raw: { mode?: string; allowCidrs?: string; internal?: string },
  context: { ownVpc: boolean; env: Record<string, string | undefined>; stage: string },
): { access: AccessInput; problems: string[] } {
  const problems: string[] = [];
  let mode: AccessMode = 'link';
  try {
    mode = parseAccessMode(raw.mode, 'link');
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }

  const unsetOauth = [LINKS.githubClientId, LINKS.githubClientSecret].filter(
    (name) => !context.env[`SST_SECRET_${name}`]?.trim(),
  );
  if (mode === 'github' && unsetOauth.length)
    problems.push(
      `MATINEE_ACCESS=github signs reviewers in with the GitHub App's OAuth client: set the secret${unsetOauth.length > 1 ? 's' : ''} ${unsetOauth.join(' and ')} (the App's Client ID, and a client secret generated on its settings page: npx sst secret set <Name> <value> --stage ${context.stage}), or choose another MATINEE_ACCESS`,
    );

  const allowCidrs = raw.allowCidrs === undefined ? undefined : parseAllowCidrs(raw.allowCidrs, problems);

  const internalText = raw.internal ?? 'false';
  if (internalText !== 'true' && internalText !== 'false')
    problems.push(`MATINEE_INTERNAL must be true or false, not ${JSON.stringify(internalText)}`);
  const internal = internalText === 'true';
  // A VPC Matinee makes is connected to no one's network, and its 10.0.0.0/16 would likely collide with it.
  if (internal && !context.ownVpc)
    problems.push(
      'MATINEE_INTERNAL=true needs MATINEE_VPC_ID and MATINEE_SUBNET_IDS: a VPC your network (VPN, Direct Connect, peering) reaches, and two or more of its private subnets',
    );
  return { access: { mode, allowCidrs, internal }, problems };
}

function parseAllowCidrs(list: string, problems: string[]): Cidr[] | undefined {
  const texts = list
    .split(',')
    .map((cidr) => cidr.trim())
    .filter(Boolean);
  const parsed = texts.map((text) => ({ text, result: parseCidr(text) }));
  const bad = parsed.flatMap(({ text, result }) =>
    'error' in result ? [`${JSON.stringify(text)} ${result.error}`] : [],
  );
  const good = parsed.flatMap(({ result }) => ('error' in result ? [] : [result]));
  const seen = new Set<string>();
  const twice = good.filter(({ cidr }) => seen.has(cidr) || !seen.add(cidr)).map(({ cidr }) => cidr);
  if (texts.length === 0)
    problems.push('MATINEE_ALLOW_CIDRS lists no range: unset it to admit any address, or list the ranges');
  else if (bad.length) problems.push(`MATINEE_ALLOW_CIDRS: ${bad.join('; ')}`);
  else if (twice.length) problems.push(`MATINEE_ALLOW_CIDRS lists a range twice: ${twice.join(', ')}`);
  else if (texts.length > MAX_ALLOW_CIDRS)
    problems.push(
      `MATINEE_ALLOW_CIDRS lists ${texts.length} ranges; at most ${MAX_ALLOW_CIDRS} fit the load balancer's security group`,
    );
  else return good;
  return undefined;
}
