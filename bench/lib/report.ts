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
