/**
 * The only ways text Matinee did not write itself (comment commands, usernames, branch names, `.matinee.yml`
 * problems, failure reasons, app and ECS output, anything read back from the store) enters the Markdown it
 * posts on GitHub: `inline` for a phrase within a line, `fenced` for a block shown verbatim. Both are total:
 * whatever the input, the structure around them (headings, table rows and cells, fences, the hidden marker)
 * stays what the template made. GitHub renders the Markdown to HTML and then sanitizes it, so neither
 * needs to reason about HTML beyond keeping Markdown from producing any.
 */

/** Longest inline phrase, in characters of the input: a comment stays readable and within GitHub's size. */
export const INLINE_MAX = 300;
/** Longest fenced block: characters and lines of the input. */
export const FENCED_MAX = 4000;
export const FENCED_MAX_LINES = 60;

/** Joins two characters that GitHub would otherwise read as a mention (`@user`) or a reference (`#12`, `GH-12`). */
const WORD_JOINER = '\u2060';

// Escape sequences of terminals (colours, cursor moves, titles): app output is full of them, and shown as
// escapes they would only be noise.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)|[@-Z\\-_])/g;
// Controls (C0, DEL, C1), format characters (bidi overrides and isolates, zero-width characters, soft
// hyphen, BOM, tags) and the line and paragraph separators: invisible, or able to reorder or break what a
// reader sees. Tab and line feed are handled before.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// CommonMark lets any ASCII punctuation be escaped with a backslash, and every inline construct (emphasis,
// code, links, images, autolinks, HTML, entities, strikethrough, table pipes, GitHub's math) starts with
// one; so does every block marker a phrase could land in front of. Escaping all of it leaves none to start.
const ASCII_PUNCTUATION = /[!-/:-@[-`{-~]/g;

/** A visible stand-in for a character that would otherwise be invisible: ␀…␟ and ␡ for C0 and DEL. */
function visible(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x20) return String.fromCodePoint(0x2400 + code);
  if (code === 0x7f) return '\u2421';
  return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
}

/** At most `max` code points (a surrogate pair is never cut), with `…` when something was left out. */
function bounded(text: string, max: number): string {
  const points = Array.from(text);
  return points.length > max ? `${points.slice(0, max).join('')}…` : text;
}

/**
 * `text` with nothing invisible left: terminal escapes dropped, lone surrogates replaced, every other
 * control or format character shown as a visible escape. Line endings (`\r\n`, and a lone `\r`, which
 * CommonMark also ends a line with) become `\n`, kept when `lines`, otherwise a space, as tabs are.
 */
export function printable(text: string, { lines = false }: { lines?: boolean } = {}): string {
  const normalized = text.replace(LONE_SURROGATE, '\uFFFD').replace(ANSI, '').replace(/\r\n?/g, '\n');
  const spaced = lines ? normalized : normalized.replace(/[\n\t]/g, ' ');
  return spaced.replace(INVISIBLE, (char) => (char === '\n' || char === '\t' ? char : visible(char)));
}

/**
 * `text` as a phrase within a line of Markdown: rendered exactly as written (one line, at most `max`
 * characters), never a link, image, HTML, emphasis, code, a table pipe, a heading or list marker, and
 * never a GitHub mention or reference (`@user`, `#12` and `GH-12` stay text and ping nobody).
 */
export function inline(text: string, max = INLINE_MAX): string {
  return printable(bounded(text, max))
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[@#](?=[\p{L}\p{N}_])|\bGH-(?=\d)/giu, (sign) => `${sign}${WORD_JOINER}`)
    .replace(ASCII_PUNCTUATION, (char) => `\\${char}`);
}

/**
 * `text` as a fenced code block, shown verbatim: the fence is longer than any run of backticks inside, so
 * no line of `text` can close it; at most `maxLines` lines and `max` characters.
 */
export function fenced(text: string, { max = FENCED_MAX, maxLines = FENCED_MAX_LINES } = {}): string {
  const all = printable(bounded(text, max), { lines: true }).split('\n');
  const shown =
    all.length > maxLines ? [...all.slice(0, maxLines), `… (${all.length - maxLines} more lines)`] : all;
  // The sticky comment is found by its HTML comment marker: a block must not carry a second one.
  const body = shown.join('\n').replace(/<!--/g, `<!-${WORD_JOINER}-`);
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}\n${body}\n${fence}`;
}

/**
 * A link to `href` reading `text` (through `inline`). Only http(s) addresses become links; anything else is
 * shown as text. The destination is written in angle brackets with everything but printable ASCII
 * percent-encoded (and `|`, so that a link can stand in a table cell), so it cannot end early or carry a title.
 */
export function link(text: string, href: string): string {
  if (!/^https?:\/\//i.test(href)) return inline(text);
  const destination = Array.from(href.replace(LONE_SURROGATE, '\uFFFD'))
    .map((char) => (/^[!-~]$/.test(char) && !/[<>\\`|]/.test(char) ? char : encodeURIComponent(char)))
    .join('');
  return `[${inline(text)}](<${destination}>)`;
}
