import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsDeployment, ID, REPO, SHA_1, SHA_2, serveRepo } from '../support/aws-deployment.ts';
import { localTable } from '../support/dynamo.ts';
import { type FakeAws, fakeAws } from '../support/fake-aws.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { BASE_SHA, command, fromFork, labeled } from '../support/github-events.ts';
import { parseMarkdown, renderedText } from '../support/markdown.ts';

/**
 * A fork's pull request end to end: signed webhooks into the webhook function, reconciles on the fake AWS,
 * GitHub's API over HTTP. A maintainer approves the commit they reviewed by its sha; the fork pushing in
 * between gets nothing deployed that nobody looked at.
 */

let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
  github.files.set(`${REPO}@${BASE_SHA}:.matinee.yml`, 'app: { image: x, port: 3000 }');
  github.permissions.set(`${REPO} maintainer`, 'maintain');
});
afterEach(() => github.stop());

async function forkOpened() {
  const aws = fakeAws();
  const d = awsDeployment(aws, github, await localTable());
  await d.step('fork opened', () => d.webhook('pull_request', fromFork('opened')));
  return { aws, ...d };
}

const images = (aws: FakeAws) => aws.taskDefinitions.map((td) => td.input.containerDefinitions?.[0]?.image);
const body = () => github.comments.find((comment) => comment.issue === 42)?.body ?? '';
const links = () =>
  parseMarkdown(body())
    .flatMap((token) => token.children ?? [])
    .filter((token) => token.type === 'link_open')
    .map((token) => token.attrGet('href'));

describe('approving a fork’s commit on GitHub', () => {
  it('names the commit awaiting approval in the comment, with its link and the command to approve it', async () => {
    await forkOpened();

    expect(renderedText(body())).toContain(
      "Commit 1111111 from the fork waits for a maintainer's approval. After reviewing it, comment " +
        '/matinee approve 1111111 to deploy exactly that commit.',
    );
    expect(links()).toContain(`${github.url}/${REPO}/pull/42/commits/${SHA_1}`);
  });

  it('deploys the approved commit, and not the one the fork pushed after the review', async () => {
    const d = await forkOpened();
    await d.step('approved', () => d.webhook('issue_comment', command('/matinee approve 1111111')));
    expect(images(d.aws)).toEqual([`ghcr.io/acme/web:${SHA_1}`]);
    await d.step('fork pushed', () =>
      d.webhook('pull_request', fromFork('synchronize', {}, '2026-11-22T10:02:00Z', SHA_2)),
    );

    const late = command('/matinee approve 1111111');
    await d.step('approved the old commit again', () => d.webhook('issue_comment', late));

    expect(images(d.aws)).toEqual([`ghcr.io/acme/web:${SHA_1}`]);
    expect(github.reactions.at(-1)).toEqual({ comment: late.comment.id, content: 'confused' });
    expect(renderedText(body())).toContain('Commit 2222222 from the fork waits for a maintainer');

    await d.step('approved the new commit', () =>
      d.webhook('issue_comment', command('/matinee approve 2222222')),
    );

    expect(images(d.aws).at(-1)).toBe(`ghcr.io/acme/web:${SHA_2}`);
    expect((await d.platform.store.get(ID))?.observed).toMatchObject({ phase: 'ready', sha: SHA_2 });
  });

  it('still lets the label approve the head commit at the time it is added', async () => {
    const d = await forkOpened();

    await d.step('labelled', () => d.webhook('pull_request', labeled('maintainer', '2026-11-22T10:01:00Z')));

    expect((await d.platform.store.get(ID))?.observed).toMatchObject({ phase: 'ready', sha: SHA_1 });
    expect((await d.platform.store.get(ID))?.forkApproval).toMatchObject({ via: 'label', sha: SHA_1 });
  });
});
