import { createHash } from 'node:crypto';
import type { EnvironmentId } from './environment.ts';

export const MAX_DNS_LABEL = 63;
export const MAX_TARGET_GROUP_NAME = 32;
/** An ALB host-header condition value is at most this long, so every preview host must be. */
export const MAX_HOST = 128;
/** What a slug needs at least: `pr<number>-<hash>` for any pull request number of up to 10 digits. */
export const MIN_SLUG_ROOM = `pr${'9'.repeat(10)}-${'0'.repeat(8)}`.length;
/** The longest domain that leaves a slug `MIN_SLUG_ROOM` characters. */
export const MAX_DOMAIN = MAX_HOST - 1 - MIN_SLUG_ROOM;

export function shortHash(value: string, length = 8): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}

/**
 * A branch name as a DNS label fragment: lowercase `[a-z0-9-]`, no leading, trailing or repeated hyphens
 * (repeated hyphens at positions 3–4 would read as an IDNA `xn--` label). May be empty.
 */
export function branchLabel(branch: string): string {
  return branch
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** `label-suffix` in at most `max` characters, shortening the label (never the suffix). */
function fit(label: string, suffix: string, max: number): string {
  const room = max - suffix.length - 1;
  const head = label.slice(0, Math.max(0, room)).replace(/-+$/, '');
  return head ? `${head}-${suffix}` : suffix;
}

/** How long a slug may be under `domain`: a DNS label, and short enough that `<slug>.<domain>` fits an ALB rule. */
export function slugRoom(domain: string): number {
  return Math.min(MAX_DNS_LABEL, MAX_HOST - 1 - domain.length);
}

/** Why previews cannot live under `domain` (their hosts would not fit an ALB rule), or undefined. */
export function domainRoomProblem(domain: string): string | undefined {
  if (slugRoom(domain) >= MIN_SLUG_ROOM) return undefined;
  return `a preview's host is <slug>.<domain> and an ALB host rule takes at most ${MAX_HOST} characters: the ${domain.length}-character domain ${domain} leaves ${Math.max(0, slugRoom(domain))} for the slug, which needs ${MIN_SLUG_ROOM}; use a domain of at most ${MAX_DOMAIN} characters`;
}

/**
 * The DNS labels an environment may take under `domain`, best first: `fix-login-pr42`, then the same with a
 * hash of the environment id (`fix-login-pr42-1a2b3c4d`) for when another repository's PR 42 has the first.
 * The branch part is shortened so that every host is at most 128 characters. The store claims the first
 * free one when the environment is created; the label never changes afterwards.
 */
export function slugCandidates(id: EnvironmentId, branch: string, number: number, domain: string): string[] {
  const problem = domainRoomProblem(domain);
  if (problem) throw new Error(problem);
  const room = slugRoom(domain);
  const label = branchLabel(branch);
  const plain = fit(label, `pr${number}`, room);
  const hashed = fit(label, `pr${number}-${shortHash(id)}`, room);
  return [plain, hashed];
}

export function hostFor(slug: string, domain: string): string {
  return `${slug}.${domain}`;
}

export interface ResourceNames {
  /**
   * ECS task definition family: `matinee-<stage>_<slug>`. Families are account-wide, and `_` is in neither a
   * stage (`assertStage`) nor a slug, so no two stages' families meet (`matinee-a-b-x` was stage `a-b`'s
   * `x` and stage `a`'s `b-x`), and IAM can hold a stage to `matinee-<stage>_*`. ≤ 255 of [A-Za-z0-9_-].
   */
  family: string;
  /**
   * The family every environment had before (`matinee-<stage>-<slug>`, ambiguous between stages): revisions
   * registered then still run in live services. The runtime retires them as they are replaced and tears them
   * down with the environment, each only after its tags show it is this environment's.
   */
  legacyFamily: string;
  /**
   * ECS service name, `matinee-<stage>-<slug>` as it always was: a service name is unique only in its cluster
   * and every stage has its own, so it needs no separator (and live services keep theirs). Also the awslogs
   * stream prefix, the same for tasks of either family.
   */
  service: string;
  /** ELBv2 target group name: ≤ 32 characters, no leading or trailing hyphen, unique per account and region. */
  targetGroup: string;
}

const stagePattern = /^[a-z][a-z0-9-]{0,23}$/;

/** Between stage and slug in a task definition family: in neither (see `ResourceNames.family`). */
export const FAMILY_SEPARATOR = '_';

export function assertStage(stage: string): string {
  if (!stagePattern.test(stage)) {
    throw new Error(
      `stage must be 1–24 characters of a-z, 0-9 and '-', starting with a letter: ${JSON.stringify(stage)}`,
    );
  }
  return stage;
}

/** Names of an environment's AWS resources. Stage and id go into a hash so stages never collide. */
export function resourceNames(stage: string, id: EnvironmentId, slug: string): ResourceNames {
  assertStage(stage);
  const service = `matinee-${stage}-${slug}`;
  return {
    family: `matinee-${stage}${FAMILY_SEPARATOR}${slug}`,
    legacyFamily: service,
    service,
    targetGroup: fit(`mt-${slug}`, shortHash(`${stage}|${id}`), MAX_TARGET_GROUP_NAME),
  };
}

/** The slug of the environment an ECS service of `stage` belongs to, or undefined when it is not ours. */
export function slugFromService(stage: string, service: string): string | undefined {
  const prefix = `matinee-${stage}-`;
  const slug = service.startsWith(prefix) ? service.slice(prefix.length) : '';
  return /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(slug) ? slug : undefined;
}

/**
 * The slug of an environment of `stage` from its task definition family (`matinee-<stage>_<slug>`), or
 * undefined when the family is not one of that stage's: unlike a service name, no other stage's matches.
 */
export function slugFromFamily(stage: string, family: string): string | undefined {
  const prefix = `matinee-${stage}${FAMILY_SEPARATOR}`;
  const slug = family.startsWith(prefix) ? family.slice(prefix.length) : '';
  return /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(slug) ? slug : undefined;
}
