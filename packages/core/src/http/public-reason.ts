import type { Environment } from '../environment/environment.ts';

/** What a redacted part of a reason is shown as. */
const REDACTED = '…';

const STOP = `\\s,;()'"<>\\[\\]{}`;
/** Any partition (`aws`, `aws-cn`, `aws-us-gov`, …), wherever it starts: `rolearn:aws:…` too. */
const ARN = new RegExp(`arn:aws[a-z0-9-]*:[^${STOP}]*`, 'gi');
/**
 * An image reference or a URL's host and path (`ghcr.io/acme/web:1f3c…`, `https://github.com/acme/web/…`):
 * they name the organisation, its repositories and its registry.
 */
const REFERENCE = new RegExp(`[a-z0-9-]+(?:\\.[a-z0-9-]+)+(?::\\d+)?/[^${STOP}]*`, 'gi');
/**
 * An account id is 12 digits; any run of 12 or more goes (a longer run may hide one), whatever stands
 * next to it (`123456789012.dkr.ecr…`, `acct123456789012`, `_123456789012`), and the console's
 * `1234-5678-9012`.
 */
const ACCOUNT_ID = /\d{12,}|\d{4}-\d{4}-\d{4}/g;

/** Identifiers shorter than this are left alone: redacting `ui` would garble every word holding it. */
const SHORTEST_IDENTIFIER = 4;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A failure's reason as a page anyone with the URL sees it. The reasons ECS and GitHub give name the
 * account, ARNs, the image and its registry, the repository, the branch and the commit; all of that stays
 * with the pull request and the dashboard, which show the reason whole. `identifiers` are the
 * environment's own names (see `environmentIdentifiers`), removed wherever they appear. The digits go
 * last, so that nothing removed before can leave two runs of digits side by side.
 */
export function publicReason(reason: string, identifiers: readonly string[] = []): string {
  let text = reason.replace(ARN, `arn:${REDACTED}`).replace(REFERENCE, REDACTED);
  const names = identifiers
    .map((name) => name.trim())
    .filter((name) => name.length >= SHORTEST_IDENTIFIER)
    // Longest first, so that `acme/web` goes whole before `acme` would split it.
    .sort((a, b) => b.length - a.length);
  if (names.length) text = text.replace(new RegExp(names.map(escapeRegExp).join('|'), 'gi'), REDACTED);
  return text.replace(ACCOUNT_ID, REDACTED);
}

/** The names a public page must not show for `env`: repository, owner, name, branch, commit. */
export function environmentIdentifiers(env: Environment): string[] {
  const [owner = '', name = ''] = env.repo.split('/');
  const shas = [env.desired.sha, env.pr.headSha, env.observed.sha].filter((sha): sha is string => !!sha);
  return [
    env.repo,
    owner,
    name,
    env.pr.branch,
    ...shas.flatMap((sha) => [sha, sha.slice(0, 7)]),
    `${env.repo}#${env.number}`,
  ];
}
