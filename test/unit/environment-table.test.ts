import { environmentTable, timeUntil } from '@matinee/local';
import { describe, expect, it } from 'vitest';

const NOW = new Date('2026-12-02T10:00:00Z');

describe('matinee ls', () => {
  it('prints a header and one aligned row per environment: pull request, state, commit, URL, sleeps in', () => {
    const lines = environmentTable(
      [
        {
          repo: 'acme/shop',
          number: 42,
          state: 'ready',
          sha: '1f3c2a9'.padEnd(40, '0'),
          url: 'http://fix-login-pr42.localhost:8080',
          sleepsAt: '2026-12-02T10:12:00Z',
        },
        {
          repo: 'acme/web',
          number: 7,
          state: 'asleep',
          sha: 'c'.repeat(40),
          url: 'http://docs-pr7.localhost:8080',
        },
      ],
      NOW,
    );

    expect(lines).toEqual([
      'PULL REQUEST  STATE   COMMIT   URL                                   SLEEPS IN',
      'acme/shop#42  ready   1f3c2a9  http://fix-login-pr42.localhost:8080  12 min',
      'acme/web#7    asleep  ccccccc  http://docs-pr7.localhost:8080        -',
    ]);
  });

  it('keeps escape sequences from stored values out of the terminal', () => {
    const [, row] = environmentTable(
      [{ repo: 'acme/\u001b]0;owned\u0007', number: 1, state: 'ready', sha: 'a'.repeat(40), url: 'u' }],
      NOW,
    );

    expect(row).toBe('acme/?]0;owned?#1  ready  aaaaaaa  u    -');
  });

  it.each([
    ['2026-12-02T10:00:45Z', '45 s'],
    ['2026-12-02T10:20:00Z', '20 min'],
    ['2026-12-02T11:05:00Z', '1 h 5 min'],
    ['2026-12-02T12:00:00Z', '2 h'],
    ['2026-12-05T14:00:00Z', '3 d 4 h'],
    ['2026-12-02T09:59:00Z', '0 s'],
    [undefined, '-'],
  ])('says a sleep at %s is in %s', (at, words) => {
    expect(timeUntil(at, NOW)).toBe(words);
  });
});
