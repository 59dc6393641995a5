import { generateKeyPairSync } from 'node:crypto';
import type { StatusReport } from '@matinee/core';
import { COMMENT_MARKER, GithubSourceControl } from '@matinee/github';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SHA_A } from '../support/environments.ts';
import { APP_SLUG, FakeGithub, TOKEN_USER } from '../support/fake-github.ts';

/**
 * Matinee finds its sticky comment by a marker anyone can paste into a comment of their own, and the App
 * may edit anyone's comment on the repository. A marker alone must never make a comment Matinee's: it
 * would overwrite what a reviewer wrote, or keep its own status out of sight.
 */

const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
});
afterEach(() => github.stop());

const asApp = () =>
  new GithubSourceControl({ auth: { kind: 'app', appId: '1234', privateKey }, baseUrl: github.url });
const withToken = () =>
  new GithubSourceControl({ auth: { kind: 'token', token: 'github_pat_secret' }, baseUrl: github.url });

function report(state: StatusReport['state']): StatusReport {
  return {
    repo: 'acme/web',
    number: 42,
    environment: 'preview/pr-42',
    url: 'https://fix-login-pr42.preview.example.com',
    state,
    sha: SHA_A,
    costSoFar: 0,
    costPerHour: 0.0074,
    costAt: '2026-11-02T09:00:00.000Z',
    spot: true,
    key: state,
  };
}

const PLANTED = `${COMMENT_MARKER}\n### ✅ Ready · Matinee preview\n\n**[Open the preview](https://evil.example)**`;
const edits = () => github.requests.filter((request) => request.method === 'PATCH');

describe.each([
  ['an App', asApp, `${APP_SLUG}[bot]`],
  ['a token', withToken, TOKEN_USER],
])('the sticky comment, as %s', (_, source, self) => {
  it('is never a marked comment someone else wrote: that one is left as it was', async () => {
    github.comments.push({ id: 1, issue: 42, body: PLANTED, user: { login: 'mallory', type: 'User' } });

    await source().publish(report('building'));

    expect(github.comments[0]).toMatchObject({ id: 1, body: PLANTED });
    expect(edits()).toEqual([]);
    const mine = github.comments.filter((comment) => comment.user?.login === self);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.body).toContain('🛠️ Building');
  });

  it('is found again among marked comments of others, and edited in place', async () => {
    const publisher = source();
    github.comments.push({ id: 1, issue: 42, body: PLANTED, user: { login: 'mallory', type: 'User' } });
    await publisher.publish(report('building'));
    github.comments.push({ id: 2, issue: 42, body: PLANTED, user: { login: 'mallory', type: 'User' } });

    await publisher.publish(report('ready'));

    const mine = github.comments.filter((comment) => comment.user?.login === self);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.body).toContain('✅ Ready');
    expect(edits().map((request) => request.path)).toEqual([
      `/repos/acme/web/issues/comments/${mine[0]?.id}`,
    ]);
    expect(github.comments.filter((comment) => comment.body === PLANTED)).toHaveLength(2);
  });

  it('is not a comment of its own that only mentions the marker further down', async () => {
    github.comments.push({
      id: 1,
      issue: 42,
      body: `Quoting: ${COMMENT_MARKER}`,
      user: { login: self, type: self.endsWith('[bot]') ? 'Bot' : 'User' },
    });

    await source().publish(report('building'));

    expect(edits()).toEqual([]);
    expect(github.comments).toHaveLength(2);
  });
});
