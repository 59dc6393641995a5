import type { Environment, PullRequestFacts } from '@matinee/core';
import { environmentId } from '@matinee/core';

export const SHA_A = 'a'.repeat(40);
export const SHA_B = 'b'.repeat(40);
export const BASE_SHA = 'c'.repeat(40);

export function facts(overrides: Partial<PullRequestFacts> = {}): PullRequestFacts {
  return {
    branch: 'fix-login',
    headSha: SHA_A,
    baseSha: BASE_SHA,
    fork: false,
    draft: false,
    open: true,
    merged: false,
    labels: [],
    updatedAt: '2026-11-02T09:00:00Z',
    ...overrides,
  };
}

/** A valid, just-created environment for `acme/web#42`, before the store assigns slug, host and version. */
export function anEnvironment(
  overrides: Partial<Omit<Environment, 'slug' | 'host' | 'version'>> = {},
): Omit<Environment, 'slug' | 'host' | 'version'> {
  const now = '2026-11-02T09:00:00.000Z';
  const id = overrides.id ?? environmentId(overrides.repo ?? 'acme/web', overrides.number ?? 42);
  return {
    id,
    repo: id.slice(0, id.indexOf('#')),
    number: Number(id.slice(id.indexOf('#') + 1)),
    pr: facts(),
    desired: { phase: 'running', sha: SHA_A, reason: 'pull request opened', since: now },
    observed: { phase: 'pending', resources: {}, since: now },
    awakeSince: now,
    wakes: [],
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}
