import {
  branchLabel,
  environmentId,
  MAX_TARGET_GROUP_NAME,
  resourceNames,
  slugCandidates,
} from '@matinee/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const dnsLabel = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Branch names as hostile as git allows and then some: unicode, emoji, slashes, dots, runs of hyphens. */
const hostileBranch = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('-', '.', '/', '_', 'a', 'Z', '9', 'é', '🦄', ' '), maxLength: 300 }),
  fc.constant('x'.repeat(255)),
  fc.constant('--'),
  fc.constant('---leading/and/trailing---'),
  fc.constant('123-starts-with-digits'),
);
const number = fc.integer({ min: 1, max: 999_999 });
const repo = fc.constantFrom('acme/web', 'acme/api', 'other-org/web.site', 'a/b');

describe('environment naming', () => {
  it('makes every slug candidate a valid DNS label of at most 63 characters', () => {
    fc.assert(
      fc.property(repo, number, hostileBranch, (r, n, branch) => {
        for (const slug of slugCandidates(environmentId(r, n), branch, n)) {
          expect(slug).toMatch(dnsLabel);
          expect(slug).not.toContain('--');
        }
      }),
    );
  });

  it('always carries the pull request number, so a slug is never empty', () => {
    fc.assert(
      fc.property(repo, number, hostileBranch, (r, n, branch) => {
        const [plain] = slugCandidates(environmentId(r, n), branch, n);
        expect(plain).toMatch(new RegExp(`(^|-)pr${n}$`));
      }),
    );
  });

  it('is stable: the same pull request and branch always give the same names', () => {
    fc.assert(
      fc.property(repo, number, hostileBranch, (r, n, branch) => {
        const id = environmentId(r, n);
        expect(slugCandidates(id, branch, n)).toEqual(slugCandidates(id, branch, n));
      }),
    );
  });

  it('gives the same pull request number in two repositories different fallback slugs', () => {
    fc.assert(
      fc.property(number, hostileBranch, (n, branch) => {
        const [, a] = slugCandidates(environmentId('acme/web', n), branch, n);
        const [, b] = slugCandidates(environmentId('acme/api', n), branch, n);
        expect(a).not.toEqual(b);
      }),
    );
  });

  it('reads like the branch when it can', () => {
    expect(slugCandidates(environmentId('acme/web', 42), 'feature/Fix_Login', 42)[0]).toBe(
      'feature-fix-login-pr42',
    );
    expect(branchLabel('Crème-brûlée 🍮 v2.1')).toBe('creme-brulee-v2-1');
  });

  it('keeps target group names within 32 characters, without edge hyphens, distinct per stage', () => {
    fc.assert(
      fc.property(
        repo,
        number,
        hostileBranch,
        fc.constantFrom('production', 'staging', 'pr-preview-9'),
        (r, n, branch, stage) => {
          const id = environmentId(r, n);
          const [slug] = slugCandidates(id, branch, n);
          const names = resourceNames(stage, id, slug as string);
          expect(names.targetGroup.length).toBeLessThanOrEqual(MAX_TARGET_GROUP_NAME);
          expect(names.targetGroup).toMatch(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/);
          expect(names.family).toMatch(/^[a-z0-9-]{1,255}$/);
          expect(names.targetGroup).not.toEqual(resourceNames(`${stage}x`, id, slug as string).targetGroup);
        },
      ),
    );
  });

  it('rejects a stage that cannot be part of AWS names', () => {
    expect(() => resourceNames('Prod_1', environmentId('acme/web', 1), 'pr1')).toThrow(/stage must be/);
  });

  it('normalises repository case in environment ids and rejects non-repositories', () => {
    expect(environmentId('Acme/Web', 7)).toBe('acme/web#7');
    expect(() => environmentId('not a repo', 7)).toThrow(/not a GitHub repository/);
    expect(() => environmentId('acme/web', 0)).toThrow(/not a pull request number/);
  });
});
