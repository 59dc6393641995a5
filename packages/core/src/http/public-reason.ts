import type { Environment } from '../environment/environment.ts';

/** What a redacted part of a reason is shown as. */
const REDACTED = '…';

const STOP = `\\s,;()'"<>\\[\\]{}`;
/** Any partition (`aws`, `aws-cn`, `aws-us-gov`, …), wherever it starts: `rolearn:aws:…` too. */
const ARN = new RegExp(`arn:aws[a-z0-9-]*:[^${STOP}]*`, 'gi');
/** A word of a reason: what stands between spaces and punctuation. */
const TOKEN = new RegExp(`[^${STOP}]+`, 'g');
/**
 * A word holding an image reference or a URL (`ghcr.io/acme/web:1f3c…`, `https://github.com/acme/web/…`):
 * a host with a dot, then a path. They name the organisation, its repositories and its registry. Tested
 * word by word with a pattern that cannot backtrack far, so a hostile reason costs linear time.
 */
const REFERENCE = /[a-z0-9-]\.[a-z0-9-]+(?::\d+)?\//i;
/**
 * An account id is 12 digits; any run of 12 or more goes (a longer run may hide one), whatever stands
 * next to it (`123456789012.dkr.ecr…`, `acct123456789012`, `_123456789012`), and the console's
 * `1234-5678-9012`.
 */
const ACCOUNT_ID = /\d{12,}|\d{4}-\d{4}-\d{4}/g;

/** The longest reason a page shows. */
const MAX_LENGTH = 1000;

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
  let text = reason
    .replace(ARN, `arn:${REDACTED}`)
    .replace(TOKEN, (word) => (REFERENCE.test(word) ? REDACTED : word));
  const names = identifiers
    .map((name) => name.trim())
    .filter((name) => name.length >= SHORTEST_IDENTIFIER)
    // Longest first, so that `acme/web` goes whole before `acme` would split it.
    .sort((a, b) => b.length - a.length);
  if (names.length) text = text.replace(new RegExp(names.map(escapeRegExp).join('|'), 'gi'), REDACTED);
  text = text.replace(ACCOUNT_ID, REDACTED);
  // A page shows a sentence or two, not a log.
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH)}${REDACTED}` : text;
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
