/** The fields of `GET /api/environments` that `matinee ls` shows. */
export interface ListedEnvironment {
  repo: string;
  number: number;
  state: string;
  sha: string;
  url: string;
  sleepsAt?: string;
}

/** Whether a value from the API has the fields `ls` shows: the answer came from a Matinee, not something else on the port. */
export function isListedEnvironment(value: unknown): value is ListedEnvironment {
  if (!value || typeof value !== 'object') return false;
  const env = value as Record<string, unknown>;
  return (
    typeof env.repo === 'string' &&
    typeof env.number === 'number' &&
    typeof env.state === 'string' &&
    typeof env.sha === 'string' &&
    typeof env.url === 'string' &&
    (env.sleepsAt === undefined || typeof env.sleepsAt === 'string')
  );
}

/** `12 min`, `1 h 5 min`: how long until `at`; `-` when there is no time. */
export function timeUntil(at: string | undefined, now: Date): string {
  const ms = at ? Date.parse(at) - now.getTime() : Number.NaN;
  if (Number.isNaN(ms)) return '-';
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

/** Stored values reach a terminal here: no control characters (escape sequences), one line per cell. */
function cell(text: string): string {
  return text.replace(/\p{Cc}/gu, '?');
}

/** The lines `matinee ls` prints: a header, then one aligned row per environment. */
export function environmentTable(list: readonly ListedEnvironment[], now: Date): string[] {
  const rows = [
    ['PULL REQUEST', 'STATE', 'COMMIT', 'URL', 'SLEEPS IN'],
    ...list.map((env) => [
      `${env.repo}#${env.number}`,
      env.state,
      env.sha.slice(0, 7),
      env.url,
      timeUntil(env.sleepsAt, now),
    ]),
  ].map((row) => row.map(cell));
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0))) ?? [];
  return rows.map((row) =>
    row
      .map((text, i) => text.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}
