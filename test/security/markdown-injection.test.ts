import { environmentId, onCommand, onPullRequest, statusReport } from '@matinee/core';
import { COMMENT_MARKER, renderComment } from '@matinee/github';
import { describe, expect, it } from 'vitest';
import { WEB_CONFIG } from '../support/configs.ts';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';
import { GITHUB_REFERENCE, parseMarkdown, renderedLine, textRuns } from '../support/markdown.ts';

/**
 * The injections a review found in the sticky comment, each through the path it took: a comment command
 * or a `.matinee.yml`, recorded by the core, rendered by the GitHub adapter, read back by a CommonMark
 * parser.
 */

const ID = environmentId('acme/web', 42);

async function opened(config = WEB_CONFIG) {
  const h = harness();
  h.source.setConfig('acme/web', config);
  await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await h.drain();
  return h;
}

let comments = 0;
function say(h: ReturnType<typeof harness>, body: string, user: string) {
  return onCommand(h.deps, { repo: 'acme/web', number: 42, commentId: ++comments, user, body });
}

async function comment(h: ReturnType<typeof harness>): Promise<string> {
  const env = await h.store.get(ID);
  const report = env && statusReport(env, h.clock.now());
  if (!report) throw new Error('nothing to report');
  return renderComment(report);
}

const headings = (body: string) =>
  parseMarkdown(body)
    .map((token, index, all) => (token.type === 'heading_open' ? all[index + 1]?.content : undefined))
    .filter((heading) => heading !== undefined);

const linkTargets = (body: string) =>
  parseMarkdown(body)
    .flatMap((token) => token.children ?? [])
    .filter((token) => token.type === 'link_open' || token.type === 'image')
    .map((token) => String(token.attrGet('href') ?? token.attrGet('src')));

describe('what people write cannot reshape the sticky comment', () => {
  it("keeps a refused command's lone carriage return from ending the table row and starting a heading", async () => {
    const h = await opened();

    await say(h, '/matinee sleep\r### Approved by the security team', 'mallory');

    const body = await comment(h);
    expect(headings(body)).toEqual(['🛠️ Building · Matinee preview']);
    expect(renderedLine(body, 'Last command |')).toContain('needs write access');
  });

  it('echoes an unknown command as text: no link, no mention', async () => {
    const h = await opened();
    h.source.permissions.set('acme/web dev', 'write');

    await say(h, '/matinee x`[a](https://evil.example)`@acme/sec', 'dev');

    const body = await comment(h);
    expect(linkTargets(body).filter((href) => href.includes('evil.example'))).toEqual([]);
    expect(renderedLine(body, 'Last command |')).toContain(
      'unknown command "x`[a](https://evil.example)`@acme/sec"',
    );
    for (const run of textRuns(body)) expect(run).not.toMatch(GITHUB_REFERENCE);
  });

  it('names whoever gave a command without pinging them', async () => {
    const h = await opened();

    await say(h, '/matinee sleep', 'mallory');

    const body = await comment(h);
    expect(renderedLine(body, 'Last command |')).toBe(
      'Last command | /matinee sleep by @mallory: @mallory needs write access to the repository to use Matinee commands',
    );
    for (const run of textRuns(body)) expect(run).not.toMatch(GITHUB_REFERENCE);
  });
});

describe('what a repository holds cannot reshape the sticky comment', () => {
  it('keeps a .matinee.yml key with a backtick fence inside the block that lists the problems', async () => {
    const h = await opened(`${WEB_CONFIG}"\\n\`\`\`\\n# Deployed, all good\\n<img src=x>": 1\n`);

    const body = await comment(h);

    expect(headings(body)).toEqual(['⏸️ Not deployed · Matinee preview']);
    const blocks = parseMarkdown(body).filter((token) => token.type === 'fence');
    expect(blocks).toHaveLength(1);
    expect(blocks[0]?.content).toContain('\n```\n# Deployed, all good\n<img src=x>');
    expect(parseMarkdown(body).filter((token) => token.type === 'html_block')).toHaveLength(3);
  });

  it('keeps a second marker out of the comment, so it is found by its first line alone', async () => {
    const h = await opened(`${WEB_CONFIG}"${COMMENT_MARKER}": 1\n`);

    const body = await comment(h);

    expect(body.startsWith(COMMENT_MARKER)).toBe(true);
    expect(body.indexOf(COMMENT_MARKER, 1)).toBe(-1);
  });

  it('shows invisible and reordering characters of a failure reason as escapes', async () => {
    const h = await opened();
    const env = await h.store.get(ID);
    if (!env) throw new Error('no environment');
    const reason = 'CannotPullContainerError: \u001b[31mpull access denied\u001b[0m \u202egpj.exe\r\u0000';
    await h.store.save({
      ...env,
      observed: { ...env.observed, failure: { sha: env.desired.sha, reason, at: env.updatedAt } },
    });

    const body = await comment(h);

    for (const invisible of ['\u001b', '\u202e', '\r', '\u0000']) expect(body).not.toContain(invisible);
    const block = parseMarkdown(body).find((token) => token.type === 'fence');
    expect(block?.content).toBe('CannotPullContainerError: pull access denied <U+202E>gpj.exe\n␀\n');
  });
});
