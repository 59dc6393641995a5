import MarkdownIt from 'markdown-it';

/**
 * A CommonMark parser (with GFM tables and strikethrough, raw HTML on, and bare URLs and emails linkified
 * as GitHub does) to read what Matinee posts as a reader's browser would get it, instead of matching raw
 * Markdown, which escaping makes unreadable.
 */
const parser = new MarkdownIt({ html: true, linkify: true });

export function parseMarkdown(markdown: string) {
  return parser.parse(markdown, {});
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };

/**
 * The text a reader sees: rendered, a table row on one line with ` | ` between cells, tags dropped,
 * entities decoded, invisible word joiners removed.
 */
export function renderedText(markdown: string): string {
  return parser
    .render(markdown)
    .replace(/<\/t[dh]>\s*<t[dh][^>]*>/g, ' | ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => entities[name] ?? '')
    .replace(/\u2060/g, '');
}

/** The line of the rendered text that starts with `start` (a table row reads `Label | value`). */
export function renderedLine(markdown: string, start: string): string | undefined {
  return renderedText(markdown)
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line.startsWith(start));
}

/**
 * The shape of a Markdown document as a parser sees it: every block (headings, paragraphs, table rows and
 * cells, fences, raw HTML blocks with their content) and every inline element that is not plain text
 * (links, images, code, emphasis, raw HTML, line breaks). Two documents of the same shape differ only in
 * their plain text.
 */
export function structure(markdown: string): string[] {
  return parseMarkdown(markdown).flatMap((token) => {
    if (token.type === 'inline')
      return (token.children ?? [])
        .filter((child) => child.type !== 'text')
        .map((child) => `  ${child.type}`);
    if (token.type === 'fence') return ['fence'];
    if (token.type === 'html_block') return [`html_block ${token.content.trim()}`];
    return [`${token.type} ${token.tag}`];
  });
}

/** GitHub's @mention and #reference syntax, as its renderer finds them in text outside code and links. */
export const GITHUB_REFERENCE = /(?:^|[^\p{L}\p{N}_])(?:[@#][\p{L}\p{N}_]|GH-\d)/iu;

/** The plain text of every text token outside code (what GitHub scans for mentions and references). */
export function textRuns(markdown: string): string[] {
  return parseMarkdown(markdown).flatMap((token) =>
    token.type === 'inline'
      ? (token.children ?? []).filter((child) => child.type === 'text').map((child) => child.content)
      : [],
  );
}
