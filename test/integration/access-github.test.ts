import {
  environmentId,
  listEnvironmentViews,
  onCommand,
  onPullRequest,
  type PullRequestChange,
  publishFeedback,
} from '@matinee/core';
import { GithubSourceControl, webhookAction } from '@matinee/github';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WEB_CONFIG } from '../support/configs.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { harness } from '../support/harness.ts';
import { example } from '../support/webhooks.ts';

/**
 * What a private preview's link does on the pull request: GitHub's own example payloads (public and
 * private repositories) through the webhook mapping and the core, the comment and Deployment written
 * over HTTP to the api.github.com stand-in.
 */
const REPO = 'acme/web';
const ID = environmentId(REPO, 42);
const SHA = '1'.repeat(40);
const HOST = 'fix-login-pr42.preview.example.com';

let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  github.files.set(`${REPO}@${SHA}:.matinee.yml`, WEB_CONFIG);
});
afterEach(() => github.stop());

function opened(repoPrivate: boolean, extra: Record<string, unknown> = {}): PullRequestChange {
  const payload = example('pull_request', 'opened');
  payload.number = 42;
  payload.repository.full_name = REPO;
  payload.repository.private = repoPrivate;
  Object.assign(payload.pull_request, {
    number: 42,
    state: 'open',
    draft: false,
    updated_at: '2026-11-22T10:00:00Z',
    labels: [],
    head: { ...payload.pull_request.head, ref: 'fix-login', sha: SHA, repo: { full_name: REPO } },
    base: { ...payload.pull_request.base, repo: { full_name: REPO } },
    ...extra,
  });
  const action = webhookAction('pull_request', payload);
  if (action.kind !== 'pull-request') throw new Error(`not a pull request action: ${action.kind}`);
  return action.change;
}

async function deployed(access: 'link' | 'github' | 'public', repoPrivate: boolean) {
  const h = harness({ access });
  const source = new GithubSourceControl({
    auth: { kind: 'token', token: 'github_pat_t' },
    baseUrl: github.url,
  });
  Object.assign(h.deps, { source });
  await onPullRequest(h.deps, opened(repoPrivate));
  await h.drain();
  h.cloud.startTasks();
  await h.drain();
  await h.reconcile(ID);
  const published = await publishFeedback(h.deps, ID);
  if (published !== 'published') throw new Error(`${published}: ${h.log.text}`);
  const env = await h.store.get(ID);
  if (!env?.accessSecret) throw new Error('no secret');
  return { h, secret: env.accessSecret };
}

const comment = () => github.comments.find((c) => c.issue === 42)?.body ?? '';
const environmentUrls = () => github.statuses.flatMap((s) => (s.environment_url ? [s.environment_url] : []));

describe('the link on the pull request', () => {
  it('is written with its token into a private repository’s comment and Deployment', async () => {
    const { secret } = await deployed('link', true);

    expect(comment()).toContain(`https://${HOST}/?matinee_token=${secret}`);
    expect(environmentUrls().at(-1)).toBe(`https://${HOST}/?matinee_token=${secret}`);
  });

  it('is written without its token on a public repository, where comments and Deployments are public', async () => {
    const { h, secret } = await deployed('link', false);

    expect(comment()).toContain(`https://${HOST}`);
    expect(comment()).not.toContain(secret);
    expect(environmentUrls().length).toBeGreaterThan(0);
    for (const url of environmentUrls()) expect(url).toBe(`https://${HOST}`);
    // Where access is already checked, the link is whole.
    const [view] = await listEnvironmentViews(h.deps);
    expect(view?.url).toBe(`https://${HOST}/?matinee_token=${secret}`);
  });

  it('is never written with its token in github mode, where people sign in', async () => {
    const { secret } = await deployed('github', true);

    expect(comment()).not.toContain(secret);
    expect(environmentUrls().join(' ')).not.toContain(secret);
  });

  it('has no token at all for a public preview', async () => {
    const { h } = await deployed('public', true);

    expect(comment()).not.toContain('matinee_token');
    const [view] = await listEnvironmentViews(h.deps);
    expect(view?.url).toBe(`https://${HOST}`);
  });

  it('is replaced by /matinee rotate-link from a writer: the rule, the comment and the Deployment follow', async () => {
    const { h, secret } = await deployed('link', true);
    github.permissions.set(`${REPO} maintainer`, 'maintain');

    const outcome = await onCommand(h.deps, {
      repo: REPO,
      number: 42,
      commentId: 9001,
      user: 'maintainer',
      body: '/matinee rotate-link',
      createdAt: new Date().toISOString(),
    });
    await h.drain();
    await publishFeedback(h.deps, ID);

    const fresh = (await h.store.get(ID))?.accessSecret ?? '';
    expect(outcome.status).toBe('done');
    expect(fresh).toMatch(/^[0-9a-f]{32}$/);
    expect(fresh).not.toBe(secret);
    expect(h.cloud.rules.get(HOST)?.access).toEqual({ cookieName: 'matinee_fix-login-pr42', secret: fresh });
    expect(comment()).toContain(`?matinee_token=${fresh}`);
    expect(comment()).not.toContain(secret);
    expect(environmentUrls().at(-1)).toBe(`https://${HOST}/?matinee_token=${fresh}`);
  });

  it('is not replaced by a reader’s /matinee rotate-link', async () => {
    const { h, secret } = await deployed('link', true);

    const outcome = await onCommand(h.deps, {
      repo: REPO,
      number: 42,
      commentId: 9002,
      user: 'reader',
      body: '/matinee rotate-link',
      createdAt: new Date().toISOString(),
    });

    expect(outcome.status).toBe('refused');
    expect((await h.store.get(ID))?.accessSecret).toBe(secret);
  });

  it('is replaced when the repository is made public', async () => {
    const { h, secret } = await deployed('link', true);

    await onPullRequest(h.deps, opened(false, { updated_at: '2026-11-22T11:00:00Z' }));
    await h.drain();
    await publishFeedback(h.deps, ID);

    const fresh = (await h.store.get(ID))?.accessSecret;
    expect(fresh).not.toBe(secret);
    expect(h.cloud.rules.get(HOST)?.access?.secret).toBe(fresh);
    expect(comment()).not.toContain('matinee_token');
  });
});
