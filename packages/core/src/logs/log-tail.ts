import { currentFailure, type Environment } from '../environment/environment.ts';
import { resourceNames } from '../environment/naming.ts';
import type { Logger, LogLocation, LogLocator, LogReader, LogRef, Settings } from '../ports.ts';
import { taskIdOf } from '../use-cases/task-event.ts';

/** How many lines of an app's output the failed page, the dashboard and `matinee logs` show. */
export const TAIL_LINES = 20;
/** Longest line shown, in characters: one line of a minified bundle must not fill a page. */
export const TAIL_LINE_MAX = 400;

const REDACTED = '[redacted]';
/** Longest part of a line looked at. */
const RAW_LINE_MAX = 4 * TAIL_LINE_MAX;

// Terminal escape sequences (colours, cursor moves, titles): noise once shown anywhere but a terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[@-Z\\-_])/g;
// Controls and format characters (bidi overrides, zero-width characters): invisible, or able to reorder what
// a reader sees. Tabs are made spaces before.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Secrets an app commonly prints: `password=…`, `"token": "…"`, `Authorization: Bearer …`, credentials in a
 * URL, AWS access key ids, GitHub, Slack and Stripe tokens, JWTs, private key blocks. Best effort: it catches
 * the obvious, it cannot know every secret, so app output stays out of public places anyway. Each pattern
 * is linear (no nested quantifiers), so a hostile line costs linear time.
 */
const SECRETS: [RegExp, string | ((...match: string[]) => string)][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----.*$/g, `-----BEGIN PRIVATE KEY----- ${REDACTED}`],
  [/\b((?:proxy-)?authorization)(["']?\s*[:=]\s*)("?)[^"\n]*/gi, `$1$2$3${REDACTED}`],
  [/\b(bearer)(\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1$2${REDACTED}`],
  [
    /\b([A-Za-z0-9_.-]*(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|auth)[A-Za-z0-9_.-]*)(["']?\s*[:=]\s*["']?)([^\s"',;&]+)/gi,
    `$1$2${REDACTED}`,
  ],
  [/(\/\/)[^/\s:@]+:[^/\s@]+@/g, `$1${REDACTED}@`],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  [/\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g, REDACTED],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/g, REDACTED],
  [/\b[sr]k_(?:live|test)_[A-Za-z0-9]{10,}/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g, REDACTED],
];

/** `line` with the secrets SECRETS recognises replaced by `[redacted]`. */
export function redactSecrets(line: string): string {
  let text = line;
  for (const [pattern, replacement] of SECRETS) text = text.replace(pattern, replacement as string);
  return text;
}

function bounded(text: string, max: number): string {
  const points = Array.from(text);
  return points.length > max ? `${points.slice(0, max).join('')}…` : text;
}

/**
 * App output as Matinee shows it: split into lines (a `\r` redraw keeps what a terminal would show last),
 * terminal escapes and every control or invisible character removed, each line bounded, obvious secrets
 * redacted, trailing blank lines dropped, and the last `max` lines kept. Still text to escape for where it
 * lands (HTML, Markdown, a terminal).
 */
export function cleanLogLines(raw: readonly string[], max = TAIL_LINES): string[] {
  const lines = raw
    .flatMap((chunk) => chunk.replace(LONE_SURROGATE, '\uFFFD').split(/\r?\n/))
    .map((line) => line.split('\r').filter(Boolean).pop() ?? '');
  while (lines.length && !lines[lines.length - 1]?.trim()) lines.pop();
  // Cut before redacting, so that redacting costs the same whatever the line, then to what is shown.
  return lines.slice(-max).map((line) => {
    const visible = bounded(line, RAW_LINE_MAX)
      .replace(ANSI, '')
      .replace(/\t/g, '  ')
      .replace(INVISIBLE, '')
      .trimEnd();
    return bounded(redactSecrets(visible), TAIL_LINE_MAX);
  });
}

/** Which log belongs to `env`: its resources' names, and the task that stopped if one is known. */
export function logRef(settings: Pick<Settings, 'stage'>, env: Environment): LogRef {
  const failed = currentFailure(env);
  const crashed = env.observed.crashes?.sha === env.desired.sha ? env.observed.crashes : undefined;
  const lastCrash = crashed?.tasks?.at(-1);
  return {
    names: resourceNames(settings.stage, env.id, env.slug),
    task: failed?.task ?? (lastCrash ? taskIdOf(lastCrash) : undefined),
  };
}

/** Where `env`'s app output is, when the deployment can say. */
export function logLocation(
  deps: { logs?: LogLocator; settings: Pick<Settings, 'stage'> },
  env: Environment,
): LogLocation | undefined {
  if (!deps.logs) return undefined;
  const location = deps.logs.locate(logRef(deps.settings, env));
  return location.url || location.path ? location : undefined;
}

export interface AppLogTail {
  /** Cleaned (see cleanLogLines), oldest first; empty when the app wrote nothing, or it could not be read. */
  lines: string[];
  location?: LogLocation;
  /** Why no lines could be read, in words; the location may still help. */
  unavailable?: string;
}

/**
 * The last lines `env`'s app wrote, cleaned. Reading them never fails the caller (a page or an API answer):
 * a log that cannot be read is said so, and logged.
 */
export async function appLogTail(
  deps: { logs?: LogLocator | LogReader; settings: Pick<Settings, 'stage'>; log?: Logger },
  env: Environment,
  max = TAIL_LINES,
): Promise<AppLogTail> {
  const location = logLocation(deps, env);
  const reader = deps.logs && 'tail' in deps.logs ? deps.logs : undefined;
  if (!reader) return { lines: [], location, unavailable: 'Matinee cannot read the app output here' };
  const ref = logRef(deps.settings, env);
  try {
    return { lines: cleanLogLines(await reader.tail(ref, max), max), location };
  } catch (error) {
    deps.log?.warn('could not read the app output', {
      id: env.id,
      error: error instanceof Error ? error.message : String(error),
    });
    return { lines: [], location, unavailable: 'the app output could not be read just now' };
  }
}
