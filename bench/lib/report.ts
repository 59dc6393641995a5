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

/** One section as markdown, from its heading to a blank line; `note` goes first (a section re-taken alone). */
function renderSection(section: Section, note?: string): string[] {
  const parts = [`## ${section.title}`, ''];
  if (note) parts.push(`_${note}_`, '');
  if (section.intro) parts.push(section.intro, '');
  if (section.rows.length) parts.push(table(section.rows), '');
  if (section.after) parts.push(section.after, '');
  return parts;
}

export function render(sections: Section[], machine: string, took: string): string {
  const parts = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` (bench/run.ts); do not edit by hand. ${machine} Whole run: ${took}.`,
    '',
  ];
  for (const section of sections) parts.push(...renderSection(section));
  return parts.join('\n');
}

/**
 * `page` with each of `sections` put in place of the section of the same title (up to the next `## `), each
 * saying when and how it was taken; a section the page lacks is added at its end.
 */
export function replaceSections(page: string, sections: Section[], note: string): string {
  let result = page;
  for (const section of sections) {
    const text = renderSection(section, note).join('\n');
    const start = result.indexOf(`\n## ${section.title}\n`);
    if (start < 0) {
      result = `${result.trimEnd()}\n\n${text}`;
      continue;
    }
    const next = result.indexOf('\n## ', start + 1);
    result = `${result.slice(0, start + 1)}${text}${next < 0 ? '' : result.slice(next)}`;
  }
  return result;
}
