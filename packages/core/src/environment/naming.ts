import { createHash } from 'node:crypto';
import type { EnvironmentId } from './environment.ts';

export const MAX_DNS_LABEL = 63;
export const MAX_TARGET_GROUP_NAME = 32;

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

/**
 * The DNS labels an environment may take, best first: `fix-login-pr42`, then the same with a hash of the
 * environment id (`fix-login-pr42-1a2b3c4d`) for when another repository's PR 42 has the first. The store
 * claims the first free one when the environment is created; the label never changes afterwards.
 */
export function slugCandidates(id: EnvironmentId, branch: string, number: number): string[] {
  const label = branchLabel(branch);
  const plain = fit(label, `pr${number}`, MAX_DNS_LABEL);
  const hashed = fit(label, `pr${number}-${shortHash(id)}`, MAX_DNS_LABEL);
  return [plain, hashed];
}

export function hostFor(slug: string, domain: string): string {
  return `${slug}.${domain}`;
}

export interface ResourceNames {
  /** ECS task definition family and service name (letters, digits, hyphens; ≤ 255). */
  family: string;
  service: string;
  /** ELBv2 target group name: ≤ 32 characters, no leading or trailing hyphen, unique per account and region. */
  targetGroup: string;
}

const stagePattern = /^[a-z][a-z0-9-]{0,23}$/;

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
  const family = `matinee-${stage}-${slug}`;
  return {
    family,
    service: family,
    targetGroup: fit(`mt-${slug}`, shortHash(`${stage}|${id}`), MAX_TARGET_GROUP_NAME),
  };
}

/** The slug of the environment an ECS service of `stage` belongs to, or undefined when it is not ours. */
export function slugFromService(stage: string, service: string): string | undefined {
  const prefix = `matinee-${stage}-`;
  const slug = service.startsWith(prefix) ? service.slice(prefix.length) : '';
  return /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(slug) ? slug : undefined;
}
