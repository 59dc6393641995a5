import { matchesGlob } from '@matinee/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/**
 * The oracle: glob matching by its definition, character by character (no regular expression), so
 * that it shares none of the implementation's escaping or anchoring.
 */
function byDefinition(value: string, glob: string): boolean {
  if (glob === '') return value === '';
  const [c, rest] = [glob[0], glob.slice(1)];
  if (c === '*') return byDefinition(value, rest) || (value !== '' && byDefinition(value.slice(1), glob));
  return value !== '' && (c === '?' || c === value[0]) && byDefinition(value.slice(1), rest);
}

/** Branch-name characters and every character a regular expression gives a meaning to. */
const ALPHABET = [...'ab-_/.0', ...'$^()[]{}|+\\'];
const text = fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 10 });
const glob = fc.string({ unit: fc.constantFrom(...ALPHABET, '*', '?'), maxLength: 8 });

describe('skip globs', () => {
  it('match exactly what the definition says, metacharacters included', () => {
    fc.assert(
      fc.property(text, glob, (value, pattern) => {
        expect(matchesGlob(value, pattern)).toBe(byDefinition(value, pattern));
      }),
      { numRuns: 2000 },
    );
  });

  it('match a literal glob only as a whole: nothing before, nothing after, no character read as a pattern', () => {
    fc.assert(
      fc.property(text, text, (literal, extra) => {
        fc.pre(extra.length > 0);
        expect(matchesGlob(literal, literal)).toBe(true);
        expect(matchesGlob(`${literal}${extra}`, literal)).toBe(false);
        expect(matchesGlob(`${extra}${literal}`, literal)).toBe(false);
      }),
    );
  });

  it.each([
    ['x-no-infra', '*-no-infra', true],
    ['feature/x-no-infra', '*-no-infra', true],
    ['x-no-infra-2', '*-no-infra', false],
    ['x-no-infrastructure', '*-no-infra', false],
    ['x-no_infra', '*-no-infra', false],
    ['release-1x0', 'release-1.0', false],
    ['release-1.0', 'release-1.0', true],
    ['deps', 'dep?', true],
    ['dep', 'dep?', false],
    ['a|b', 'a|b', true],
    ['a', 'a|b', false],
  ])('%s against %s: %s', (branch, pattern, expected) => {
    expect(matchesGlob(branch, pattern)).toBe(expected);
  });
});
