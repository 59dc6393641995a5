import {
  branchLabel,
  domainRoomProblem,
  environmentId,
  hostFor,
  MAX_DOMAIN,
  MAX_HOST,
  MAX_TARGET_GROUP_NAME,
  resourceNames,
  slugCandidates,
  slugFromService,
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

/** Any repository GitHub allows (lowercase: ids are normalised), and a few that collide on purpose. */
const anyRepo = fc.oneof(
  fc.constantFrom('acme/web', 'acme/api', 'other/web'),
  fc
    .tuple(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,38}$/), fc.stringMatching(/^[a-z0-9._-]{1,100}$/))
    .map(([owner, name]) => `${owner}/${name}`),
);
const stage = fc.constantFrom('production', 'staging', 'pr-preview-9', 'a');
const DOMAIN = 'preview.example.com';

/** Pull requests that are all different environments, often sharing a number, a repository or a branch. */
const environments = fc.uniqueArray(
  fc.record({
    repo: anyRepo,
    number: fc.oneof(fc.constantFrom(1, 42), number),
    branch: fc.oneof(fc.constantFrom('fix-login', 'main'), hostileBranch),
  }),
  { minLength: 2, maxLength: 8, selector: (e) => environmentId(e.repo, e.number) },
);

/** What the store does as each is created in turn: take the first candidate slug whose host is free. */
function claimSlugs(envs: { repo: string; number: number; branch: string }[]): string[] {
  const taken = new Set<string>();
  return envs.map(({ repo, number, branch }) => {
    const slug = slugCandidates(environmentId(repo, number), branch, number, DOMAIN).find(
      (candidate) => !taken.has(hostFor(candidate, DOMAIN)),
    );
    if (!slug) throw new Error(`every host of ${repo}#${number} is taken`);
    taken.add(hostFor(slug, DOMAIN));
    return slug;
  });
}

describe('environment naming', () => {
  it('makes every slug candidate a valid DNS label of at most 63 characters', () => {
    fc.assert(
      fc.property(repo, number, hostileBranch, (r, n, branch) => {
        for (const slug of slugCandidates(environmentId(r, n), branch, n, DOMAIN)) {
          expect(slug).toMatch(dnsLabel);
          expect(slug).not.toContain('--');
        }
      }),
    );
  });

  it('keeps every host within the 128 characters of an ALB host rule, whatever the domain settings accept', () => {
    const domain = fc
      .integer({ min: 4, max: MAX_DOMAIN })
      .map((length) => `${'d'.repeat(Math.max(1, length - 4))}.com`.slice(-length));
    fc.assert(
      fc.property(repo, number, hostileBranch, domain, (r, n, branch, d) => {
        for (const slug of slugCandidates(environmentId(r, n), branch, n, d)) {
          expect(hostFor(slug, d).length).toBeLessThanOrEqual(MAX_HOST);
          expect(slug).toMatch(dnsLabel);
          expect(slug).toMatch(new RegExp(`(^|-)pr${n}(-[0-9a-f]{8})?$`));
        }
      }),
    );
    // The reproduced case: a 78-character domain gave a 132-character host.
    const d78 = `${'x'.repeat(70)}.example`;
    const [slug] = slugCandidates(environmentId('acme/web', 42), 'x'.repeat(200), 42, d78);
    expect(hostFor(slug ?? '', d78)).toHaveLength(128);
  });

  it('refuses a domain that leaves a slug no room, with the reason', () => {
    const d = `${'d'.repeat(MAX_DOMAIN - 3)}.com`;
    expect(domainRoomProblem(d.slice(1))).toBeUndefined();
    expect(domainRoomProblem(`d${d}`)).toMatch(
      /at most 128 characters.*use a domain of at most 106 characters/,
    );
    expect(() => slugCandidates(environmentId('acme/web', 1), 'main', 1, `d${d}`)).toThrow(/128/);
  });

  it('always carries the pull request number, so a slug is never empty', () => {
    fc.assert(
      fc.property(repo, number, hostileBranch, (r, n, branch) => {
        const [plain] = slugCandidates(environmentId(r, n), branch, n, DOMAIN);
        expect(plain).toMatch(new RegExp(`(^|-)pr${n}$`));
      }),
    );
  });

  it('is stable: the same pull request and branch always give the same names', () => {
    fc.assert(
      fc.property(repo, number, hostileBranch, (r, n, branch) => {
        const id = environmentId(r, n);
        expect(slugCandidates(id, branch, n, DOMAIN)).toEqual(slugCandidates(id, branch, n, DOMAIN));
      }),
    );
  });

  it('gives the same pull request number in two repositories different fallback slugs', () => {
    fc.assert(
      fc.property(number, hostileBranch, (n, branch) => {
        const [, a] = slugCandidates(environmentId('acme/web', n), branch, n, DOMAIN);
        const [, b] = slugCandidates(environmentId('acme/api', n), branch, n, DOMAIN);
        expect(a).not.toEqual(b);
      }),
    );
  });

  it('gives different pull requests of one repository different slugs, whatever their branches', () => {
    fc.assert(
      fc.property(
        anyRepo,
        fc.uniqueArray(number, { minLength: 2, maxLength: 2 }),
        hostileBranch,
        hostileBranch,
        (r, [a, b], branchA, branchB) => {
          const [slugA] = slugCandidates(environmentId(r, a as number), branchA, a as number, DOMAIN);
          const [slugB] = slugCandidates(environmentId(r, b as number), branchB, b as number, DOMAIN);
          expect(slugA).not.toEqual(slugB);
        },
      ),
    );
  });

  it('gives the same pull request number in different repositories different hosts as each is created', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(anyRepo, { minLength: 2, maxLength: 5 }),
        number,
        hostileBranch,
        (repos, n, branch) => {
          const hosts = claimSlugs(repos.map((repo) => ({ repo, number: n, branch }))).map((slug) =>
            hostFor(slug, DOMAIN),
          );
          expect(new Set(hosts).size).toBe(repos.length);
        },
      ),
    );
  });

  it('never runs out of hosts, and never gives two environments the same one', () => {
    fc.assert(
      fc.property(environments, (envs) => {
        const slugs = claimSlugs(envs);
        expect(new Set(slugs).size).toBe(envs.length);
      }),
    );
  });

  it('derives AWS names within their limits and distinct between environments', () => {
    fc.assert(
      fc.property(environments, stage, (envs, s) => {
        const slugs = claimSlugs(envs);
        const names = envs.map(({ repo, number }, i) =>
          resourceNames(s, environmentId(repo, number), slugs[i] as string),
        );
        for (const { family, service, targetGroup } of names) {
          // ECS: up to 255 letters, digits, hyphens and underscores. ELBv2: up to 32, no edge hyphen.
          expect(family).toMatch(/^[A-Za-z0-9_-]{1,255}$/);
          expect(service).toMatch(/^[A-Za-z0-9_-]{1,255}$/);
          expect(targetGroup.length).toBeLessThanOrEqual(MAX_TARGET_GROUP_NAME);
          expect(targetGroup).toMatch(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/);
        }
        for (const key of ['family', 'service', 'targetGroup'] as const)
          expect(new Set(names.map((n) => n[key])).size).toBe(envs.length);
      }),
    );
  });

  it('leads from a service name back to its slug, which is how task events find their environment', () => {
    fc.assert(
      fc.property(environments, stage, (envs, s) => {
        const slugs = claimSlugs(envs);
        envs.forEach(({ repo, number }, i) => {
          const { service } = resourceNames(s, environmentId(repo, number), slugs[i] as string);
          expect(slugFromService(s, service)).toBe(slugs[i]);
        });
      }),
    );
  });

  it('reads like the branch when it can', () => {
    expect(slugCandidates(environmentId('acme/web', 42), 'feature/Fix_Login', 42, DOMAIN)[0]).toBe(
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
          const [slug] = slugCandidates(id, branch, n, DOMAIN);
          const names = resourceNames(stage, id, slug as string);
          expect(names.targetGroup.length).toBeLessThanOrEqual(MAX_TARGET_GROUP_NAME);
          expect(names.targetGroup).toMatch(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/);
          expect(names.family).toMatch(/^[a-z0-9_-]{1,255}$/);
          expect(names.targetGroup).not.toEqual(resourceNames(`${stage}x`, id, slug as string).targetGroup);
        },
      ),
    );
  });

  it("gives two stages' environments distinct task definition families, even when stage names hold hyphens", () => {
    // Families are account-wide. Before `_` separated stage from slug, stage `a-b`'s `x` and stage `a`'s
    // `b-x` were both `matinee-a-b-x`.
    const id = environmentId('acme/web', 7);
    expect(resourceNames('a-b', id, 'x').family).not.toBe(resourceNames('a', id, 'b-x').family);
    expect(resourceNames('a', id, 'b-x').legacyFamily).toBe(resourceNames('a-b', id, 'x').legacyFamily);
    const stages = fc.stringMatching(/^[a-z][a-z0-9-]{0,23}$/);
    fc.assert(
      fc.property(stages, stages, repo, number, hostileBranch, (mine, other, r, n, branch) => {
        fc.pre(mine !== other);
        const theirId = environmentId(r, n);
        for (const slug of slugCandidates(theirId, branch, n, DOMAIN)) {
          // What IAM holds a stage to: its families start `matinee-<stage>_`, and no other stage's does.
          expect(resourceNames(other, theirId, slug).family.startsWith(`matinee-${mine}_`)).toBe(false);
          expect(resourceNames(mine, theirId, slug).family.startsWith(`matinee-${mine}_`)).toBe(true);
        }
      }),
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
