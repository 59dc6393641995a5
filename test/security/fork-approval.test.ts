import {
  type CommentCommand,
  environmentId,
  onCommand,
  onPullRequest,
  type PullRequestFacts,
  statusReport,
} from '@matinee/core';
import { renderComment } from '@matinee/github';
import { describe, expect, it } from 'vitest';
import { facts, SHA_A, SHA_B } from '../support/environments.ts';
import { harness } from '../support/harness.ts';
import { parseMarkdown, renderedText } from '../support/markdown.ts';

/**
 * `/matinee approve <sha>` deploys exactly the fork's commit a maintainer reviewed, never one the fork
 * pushed after it: a fork controls what its head is, and can change it between the review and the approval.
 */

const ID = environmentId('acme/web', 42);
const LABEL = 'matinee:deploy';

async function forkOpened(overrides: Partial<PullRequestFacts> = {}) {
  const h = harness();
  h.source.permissions.set('acme/web maintainer', 'maintain');
  await onPullRequest(h.deps, {
    repo: 'acme/web',
    number: 42,
    action: 'opened',
    facts: facts({ fork: true, ...overrides }),
  });
  await h.drain();
  return h;
}

let comments = 0;
async function say(h: ReturnType<typeof harness>, body: string, user = 'maintainer') {
  const comment: CommentCommand = { repo: 'acme/web', number: 42, commentId: ++comments, user, body };
  const outcome = await onCommand(h.deps, comment);
  await h.drain();
  return { outcome, reaction: h.source.reactions.find((r) => r.commentId === comment.commentId)?.reaction };
}

async function push(h: ReturnType<typeof harness>, sha: string, labels: string[] = []) {
  await onPullRequest(h.deps, {
    repo: 'acme/web',
    number: 42,
    action: 'synchronize',
    facts: facts({ fork: true, headSha: sha, labels, updatedAt: '2026-11-02T09:05:00Z' }),
  });
  await h.drain();
}

/** The commits whose image runs: each task definition's app image names its commit. */
const deployed = (h: ReturnType<typeof harness>) =>
  [...h.cloud.services.values()].flatMap((service) => {
    const revisions = [...h.cloud.taskDefinitions.values()].flat();
    const image = revisions.find((revision) => revision.arn === service.taskDefinitionArn)?.spec.sha;
    return service.desiredCount > 0 && image ? [image] : [];
  });

describe('approving a fork’s commit by its sha', () => {
  it('deploys the head commit a maintainer names, without the label', async () => {
    const h = await forkOpened();
    expect(deployed(h)).toEqual([]);

    const { outcome, reaction } = await say(h, '/matinee approve aaaaaaa');

    expect(outcome).toEqual({ status: 'done', reply: 'approved aaaaaaa from the fork; deploying it' });
    expect(reaction).toBe('+1');
    expect(deployed(h)).toEqual([SHA_A]);
    expect((await h.store.get(ID))?.forkApproval).toEqual({
      user: 'maintainer',
      allowed: true,
      sha: SHA_A,
      via: 'approve',
    });
  });

  it('takes the whole sha, in either case', async () => {
    const h = await forkOpened();

    await say(h, `/matinee approve ${SHA_A.toUpperCase()}`);

    expect(deployed(h)).toEqual([SHA_A]);
  });

  it('approves nothing new when the sha reviewed is no longer the head: the fork pushed since', async () => {
    const h = await forkOpened();
    await say(h, '/matinee approve aaaaaaa');
    await push(h, SHA_B);

    const { outcome, reaction } = await say(h, '/matinee approve aaaaaaa');

    expect(outcome).toEqual({
      status: 'refused',
      reply:
        'aaaaaaa is not the head commit of this pull request, bbbbbbb: nothing approved. ' +
        'Review bbbbbbb, then comment /matinee approve bbbbbbb',
    });
    expect(reaction).toBe('confused');
    expect(deployed(h)).toEqual([SHA_A]);
    expect((await h.store.get(ID))?.observed.phase).toBe('pending');
  });

  it('approves nothing when the fork pushed between the review and the first approval', async () => {
    const h = await forkOpened();
    await push(h, SHA_B);

    const { outcome } = await say(h, '/matinee approve aaaaaaa');

    expect(outcome).toMatchObject({ status: 'refused', reply: expect.stringContaining('Review bbbbbbb') });
    expect(deployed(h)).toEqual([]);
    expect((await h.store.get(ID))?.forkApproval).toBeUndefined();
  });

  it('deploys the new head once it is approved in turn, replacing the approved one', async () => {
    const h = await forkOpened();
    await say(h, '/matinee approve aaaaaaa');
    await push(h, SHA_B);

    await say(h, '/matinee approve bbbbbbb');

    expect(deployed(h)).toEqual([SHA_B]);
  });

  it.each([
    ['/matinee approve', 'no sha'],
    ['/matinee approve aaaaaa', 'six characters'],
    ['/matinee approve aaaaaaz', 'not hex'],
    ['/matinee approve HEAD', 'a ref, not a sha'],
    ['/matinee approve aaaaaaa bbbbbbb', 'two shas'],
  ])('refuses %j (%s) with its usage, and deploys nothing', async (body) => {
    const h = await forkOpened();

    const { outcome, reaction } = await say(h, body);

    expect(outcome).toMatchObject({
      status: 'help',
      reply: expect.stringContaining('usage: /matinee approve <sha>, with at least 7 characters'),
    });
    expect(reaction).toBe('confused');
    expect(deployed(h)).toEqual([]);
  });

  it('refuses a short sha that names more than one commit of the pull request', async () => {
    const h = await forkOpened();
    const env = await h.store.get(ID);
    if (!env) throw new Error('no environment');
    // The head GitHub reported and the commit to deploy differ only while a push is being recorded.
    const head = `abcdef1${'1'.repeat(33)}`;
    const desired = `abcdef1${'2'.repeat(33)}`;
    await h.store.save({
      ...env,
      pr: { ...env.pr, headSha: head },
      desired: { ...env.desired, sha: desired },
    });

    const { outcome } = await say(h, '/matinee approve abcdef1');

    expect(outcome).toEqual({
      status: 'refused',
      reply: 'abcdef1 names more than one commit of this pull request: give more of the sha',
    });
    expect((await h.store.get(ID))?.forkApproval).toBeUndefined();
  });

  it('refuses someone without write access, as GitHub answers at the time, until a maintainer approves', async () => {
    const h = await forkOpened();
    h.source.permissions.set('acme/web outsider', 'triage');

    const { outcome, reaction } = await say(h, '/matinee approve aaaaaaa', 'outsider');

    expect(outcome).toEqual({
      status: 'refused',
      reply: '@outsider needs write access to the repository to use Matinee commands',
    });
    expect(reaction).toBe('confused');
    expect(deployed(h)).toEqual([]);
    expect((await h.store.get(ID))?.forkApproval).toBeUndefined();
    h.source.permissions.set('acme/web outsider', 'write');
    await say(h, '/matinee approve aaaaaaa', 'outsider');
    expect(deployed(h)).toEqual([SHA_A]);
  });

  it('refuses on a pull request that is not from a fork, changing nothing', async () => {
    const h = await forkOpened({ fork: false });
    const before = await h.store.get(ID);

    const { outcome } = await say(h, '/matinee approve aaaaaaa');

    expect(outcome).toEqual({
      status: 'refused',
      reply: 'this pull request is not from a fork: its commits need no approval',
    });
    expect((await h.store.get(ID))?.desired).toEqual(before?.desired);
  });

  it('is withdrawn with everything else when a maintainer removes the label', async () => {
    const h = await forkOpened({ labels: [LABEL], labeledBy: { [LABEL]: 'maintainer' } });
    await push(h, SHA_B, [LABEL]);
    await say(h, '/matinee approve bbbbbbb');
    expect(deployed(h)).toEqual([SHA_B]);

    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'unlabeled',
      facts: facts({ fork: true, headSha: SHA_B, labels: [], updatedAt: '2026-11-02T09:10:00Z' }),
    });
    await h.drain();

    expect(deployed(h)).toEqual([]);
    expect(h.cloud.inventory()).toEqual([]);
    expect((await h.store.get(ID))?.forkApproval).toBeUndefined();
  });
});

describe('what the pull request says about a fork’s commit', () => {
  async function commentFor(h: ReturnType<typeof harness>) {
    const env = await h.store.get(ID);
    const report = env && statusReport(env, h.clock.now());
    if (!report) throw new Error('nothing to report');
    return renderComment(report);
  }
  const links = (body: string) =>
    parseMarkdown(body)
      .flatMap((token) => token.children ?? [])
      .filter((token) => token.type === 'link_open')
      .map((token) => token.attrGet('href'));

  it('names the commit awaiting approval, links it, and says how to approve exactly it', async () => {
    const h = await forkOpened();

    const body = await commentFor(h);

    expect(renderedText(body)).toContain(
      "Commit aaaaaaa from the fork waits for a maintainer's approval. After reviewing it, comment " +
        '/matinee approve aaaaaaa to deploy exactly that commit.',
    );
    expect(links(body)).toContain(`https://github.com/acme/web/pull/42/commits/${SHA_A}`);
  });

  it('names the new commit after a push, and the approved one before it', async () => {
    const h = await forkOpened();
    await say(h, '/matinee approve aaaaaaa');
    await push(h, SHA_B);

    const body = await commentFor(h);

    expect(renderedText(body)).toContain(
      "Commit bbbbbbb from the fork waits for a maintainer's approval. @maintainer approved aaaaaaa before: " +
        'a push needs a new approval. After reviewing it, comment /matinee approve bbbbbbb',
    );
    expect(links(body)).toEqual(
      expect.arrayContaining([
        `https://github.com/acme/web/pull/42/commits/${SHA_B}`,
        `https://github.com/acme/web/pull/42/commits/${SHA_A}`,
      ]),
    );
  });

  it('says nothing of approval once the head is approved', async () => {
    const h = await forkOpened();
    await say(h, '/matinee approve aaaaaaa');

    const shown = renderedText(await commentFor(h));
    expect(shown).toContain('🛠️ Building');
    expect(shown).not.toContain('approval');
  });
});
