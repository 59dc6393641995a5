import { FENCED_MAX, fenced, INLINE_MAX, inline, link, printable, type StatusReport } from '@matinee/core';
import { COMMENT_MARKER, renderComment } from '@matinee/github';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GITHUB_REFERENCE, parseMarkdown, structure, textRuns } from '../support/markdown.ts';

/**
 * Whatever text from outside is put into the sticky comment, a CommonMark parser (markdown-it, with
 * GitHub's tables and autolinks) reads the same document: the same headings, table rows and cells, fences
 * and HTML blocks, no link, image, code or HTML it did not have, and no @mention or #reference.
 */

const RUNS = { numRuns: 400 };

/** Pieces an attacker would try, mixed with arbitrary text: each test string is a few of them glued. */
const hostilePiece = fc.oneof(
  fc.constantFrom(
    '`',
    '```',
    '````',
    '~~~',
    '\r',
    '\n',
    '\r\n',
    '\n\n',
    '|',
    '\\|',
    '\\',
    '<!--',
    '-->',
    COMMENT_MARKER,
    '<details>',
    '</details>',
    '<img src=x onerror=alert(1)>',
    '<a href="https://evil.example">x</a>',
    '[click](https://evil.example)',
    '![x](https://evil.example/x.png)',
    '[x]: https://evil.example',
    '<https://evil.example>',
    'https://evil.example/a',
    'www.evil.example',
    'mallory@evil.example',
    '@everyone',
    '@acme/security',
    '#1',
    'GH-1',
    '# ',
    '### ',
    '- ',
    '1. ',
    '> ',
    '> [!WARNING]',
    '    ',
    '\t',
    '***',
    '---',
    '===',
    '&amp;',
    '&#x3C;',
    '*x*',
    '_x_',
    '~~x~~',
    '$x$',
    '[^1]',
    '\u0000',
    '\u0007',
    '\u001b[31m',
    '\u001b]8;;https://evil.example\u0007',
    '\u0085',
    '\u2028',
    '\u2029',
    '\u202e',
    '\u2066',
    '\u200b',
    '\u2060',
    '\ufeff',
    '\ud800',
    '\udfff',
    '😀',
  ),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({
    unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
    maxLength: 4,
  }),
);
const hostile = fc.array(hostilePiece, { maxLength: 12 }).map((pieces) => pieces.join(''));

/** What a reader should see for `text` put inline: printable, on one line, whitespace collapsed, bounded. */
function shownInline(text: string): string {
  const points = Array.from(text);
  const bounded = points.length > INLINE_MAX ? `${points.slice(0, INLINE_MAX).join('')}…` : text;
  return printable(bounded).replace(/\s+/g, ' ').trim();
}

describe('inline text', () => {
  it('is plain text where it lands, shown as written, whatever it contains', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const markdown = `Before ${inline(text)} after`;
        const tokens = parseMarkdown(markdown);
        expect(tokens.map((token) => token.type)).toEqual(['paragraph_open', 'inline', 'paragraph_close']);
        const children = tokens[1]?.children ?? [];
        expect(children.map((child) => child.type)).toEqual(children.map(() => 'text'));
        const shown = children.map((child) => child.content).join('');
        expect(shown.replace(/\u2060/g, '')).toBe(`Before ${shownInline(text)} after`);
        expect(shown).not.toMatch(GITHUB_REFERENCE);
      }),
      RUNS,
    );
  });

  it('stays in its table cell: one row, two cells', () => {
    fc.assert(
      fc.property(hostile, hostile, (key, value) => {
        const markdown = ['| | |', '|---|---|', `| ${inline(key)} | ${inline(value)} |`].join('\n');
        expect(structure(markdown)).toEqual(structure('| | |\n|---|---|\n| k | v |'));
      }),
      RUNS,
    );
  });

  it('cannot start a block at the beginning of a line', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const shown = inline(text);
        fc.pre(shown.length > 0);
        expect(structure(`${shown}\n`)).toEqual(structure('x\n'));
      }),
      RUNS,
    );
  });

  it('has no control, format or separator character left, and a bounded length', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 2 * INLINE_MAX }), (text) => {
        const shown = inline(text);
        expect(shown.replace(/\u2060/g, '')).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
        // Each character of the input becomes at most an escaped `<U+XXXXX>`.
        expect(shown.length).toBeLessThanOrEqual(13 * (INLINE_MAX + 1));
      }),
      RUNS,
    );
  });
});

describe('fenced text', () => {
  it('is one code block showing exactly the printable text, whatever backticks or markers it holds', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const markdown = `Before\n\n${fenced(text)}\n\nafter`;
        const tokens = parseMarkdown(markdown);
        expect(structure(markdown)).toEqual(structure('Before\n\n```\nx\n```\n\nafter'));
        const code = tokens.find((token) => token.type === 'fence')?.content ?? '';
        const expected = printable(text, { lines: true }).replace(/<!--/g, '<!-\u2060-');
        expect(code).toBe(`${expected}\n`);
      }),
      RUNS,
    );
  });

  it('is bounded in characters and lines', () => {
    const long = fenced('x'.repeat(FENCED_MAX * 3));
    expect(long.length).toBeLessThan(FENCED_MAX + 20);
    const tall = fenced(Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n'));
    expect(tall.split('\n').length).toBeLessThan(70);
    expect(tall).toContain('more lines)');
  });
});

describe('links', () => {
  it('are one link to the address given, with plain text, whatever the address holds', () => {
    fc.assert(
      fc.property(hostile, hostile, (text, path) => {
        const markdown = `See ${link(text, `https://github.com/${path}`)} now`;
        expect(structure(markdown)).toEqual(structure('See [x](https://github.com/x) now'));
      }),
      RUNS,
    );
  });

  it('are only made to http(s) addresses', () => {
    expect(structure(link('x', 'javascript:alert(1)'))).toEqual(structure('x'));
  });
});

const states: StatusReport['state'][] = [
  'building',
  'waiting',
  'waking',
  'ready',
  'asleep',
  'failed',
  'not-deployed',
  'removing',
  'removed',
];

/** A report whose every text field is `text(name)`, with the optional parts present as `shape` says. */
function report(
  shape: {
    state: StatusReport['state'];
    reason: boolean;
    approval: 0 | 1 | 2;
    command: boolean;
    wake: boolean;
  },
  text: (field: string) => string,
): StatusReport {
  return {
    repo: text('repo'),
    number: 42,
    environment: text('environment'),
    url: `https://${text('host')}`,
    state: shape.state,
    sha: text('sha'),
    reason: shape.reason ? text('reason') : undefined,
    approval:
      shape.approval === 0
        ? undefined
        : {
            sha: text('approval.sha'),
            approved:
              shape.approval === 2 ? { sha: text('approved.sha'), user: text('approved.user') } : undefined,
          },
    sleepsAt: text('sleepsAt'),
    lastWakeSeconds: shape.wake ? 12 : undefined,
    costSoFar: 0.12,
    costPerHour: 0.0074,
    costAt: text('costAt'),
    spot: true,
    logs: { url: `https://${text('logs')}` },
    dashboardUrl: `https://${text('dashboard')}/`,
    lastCommand: shape.command
      ? {
          user: text('command.user'),
          text: text('command.text'),
          reply: text('command.reply'),
          at: text('at'),
        }
      : undefined,
    key: 'k',
  };
}

const shapes = fc.record({
  state: fc.constantFrom(...states),
  reason: fc.boolean(),
  approval: fc.constantFrom(0 as const, 1 as const, 2 as const),
  command: fc.boolean(),
  wake: fc.boolean(),
});

describe('the sticky comment', () => {
  it('has the same structure whatever text its report carries', () => {
    fc.assert(
      fc.property(shapes, fc.dictionary(fc.string(), hostile), hostile, (shape, values, fallback) => {
        const text = (field: string) => values[field] ?? fallback;
        // An empty reason is no reason: the benign report keeps the same fields empty.
        const benign = renderComment(report(shape, (field) => (text(field) === '' ? '' : 'x')));
        const attacked = renderComment(report(shape, text));
        expect(structure(attacked)).toEqual(structure(benign));
      }),
      RUNS,
    );
  });

  it('has its marker once, first, whatever text its report carries', () => {
    fc.assert(
      fc.property(shapes, hostile, (shape, text) => {
        const body = renderComment(report(shape, () => text));
        expect(body.startsWith(`${COMMENT_MARKER}\n`)).toBe(true);
        expect(body.indexOf('<!--', 1)).toBe(-1);
      }),
      RUNS,
    );
  });

  it('mentions and references nobody, whatever text its report carries', () => {
    fc.assert(
      fc.property(shapes, hostile, (shape, text) => {
        const body = renderComment(report(shape, () => `@${text} #1 ${text}`));
        for (const run of textRuns(body)) expect(run).not.toMatch(GITHUB_REFERENCE);
      }),
      RUNS,
    );
  });
});
