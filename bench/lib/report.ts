import { ms, type Summary } from './stats.ts';

/** One measured quantity, its target, and whether the target was met. */
export interface Row {
  what: string;
  summary?: Summary;
  /** For single numbers (sizes, counts): the value as written. */
  value?: string;
  unit: string;
  target: string;
  met: boolean;
  note?: string;
}

export interface Section {
  title: string;
  intro?: string;
  rows: Row[];
  /** Free markdown after the table (a price table, an explanation of a miss). */
  after?: string;
}

export function table(rows: Row[]): string {
  const lines = [
    '| Measure | n | min | median | p99 | Target | Met |',
    '| --- | ---: | ---: | ---: | ---: | --- | :---: |',
  ];
  for (const row of rows) {
    const s = row.summary;
    const cells = s
      ? [
          String(s.count),
          `${ms(s.min)} ${row.unit}`,
          `${ms(s.median)} ${row.unit}`,
          `${ms(s.p99)} ${row.unit}`,
        ]
      : ['1', '', `${row.value ?? ''} ${row.unit}`.trim(), ''];
    lines.push(
      `| ${row.what}${row.note ? ` (${row.note})` : ''} | ${cells.join(' | ')} | ${row.target} | ${row.met ? 'yes' : '**no**'} |`,
    );
  }
  return lines.join('\n');
}

export function render(sections: Section[], machine: string, took: string): string {
  const parts = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` (bench/run.ts); do not edit by hand. ${machine} Whole run: ${took}.`,
    '',
  ];
  for (const section of sections) {
    parts.push(`## ${section.title}`, '');
    if (section.intro) parts.push(section.intro, '');
    if (section.rows.length) parts.push(table(section.rows), '');
    if (section.after) parts.push(section.after, '');
  }
  return parts.join('\n');
}

/**
 * `existing` (a RESULTS.md) with these sections put in place of those of the same title (new ones at the
 * end), and one line under the header saying what was re-run: the rest is from the whole run it names.
 */
export function splice(existing: string, sections: Section[], rerun: string): string {
  const [header = '', ...parts] = existing.split(/^(?=## )/m);
  const rendered = new Map(sections.map((s) => [s.title, render([s], '', '').split(/^(?=## )/m)[1] ?? '']));
  const body = parts.map((part) => {
    const title = /^## (.*)$/m.exec(part)?.[1] ?? '';
    const fresh = rendered.get(title);
    rendered.delete(title);
    return fresh ?? part;
  });
  const top = header.replace(/^Re-run .*\n\n/m, '');
  const blocks = [...body, ...rendered.values()].map((block) => block.replace(/\n*$/, '\n\n'));
  return `${top}${rerun}\n\n${blocks.join('')}`.replace(/\n+$/, '\n');
}
