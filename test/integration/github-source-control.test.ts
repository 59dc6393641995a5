import { generateKeyPairSync } from 'node:crypto';
import {
  environmentId,
  onPullRequest,
  publishFeedback,
  reconcile,
  type StatusReport,
  TransientError,
} from '@matinee/core';
import { COMMENT_MARKER, GithubSourceControl } from '@matinee/github';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WEB_CONFIG } from '../support/configs.ts';
import { facts, SHA_A, SHA_B } from '../support/environments.ts';
import { FakeCloud } from '../support/fake-cloud.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { InMemoryStore, ManualClock, MemoryLogger, RecordingBus } from '../support/fakes.ts';
import { renderedText } from '../support/markdown.ts';

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

function report(overrides: Partial<StatusReport> = {}): StatusReport {
  return {
    repo: 'acme/web',
    number: 42,
    environment: 'preview/pr-42',
    url: 'https://fix-login-pr42.preview.example.com',
    state: 'building',
    sha: SHA_A,
    costSoFar: 0,
    costPerHour: 0.0074,
    costAt: '2026-11-02T09:00:00.000Z',
    spot: true,
    key: 'k',
    ...overrides,
  };
}

describe('GitHub as source control', () => {
  it('reads .matinee.yml at a commit as the App installation, minting one token for many calls', async () => {
    github.files.set(`acme/web@${SHA_A}:.matinee.yml`, WEB_CONFIG);
    const source = asApp();
    expect(await source.readConfig('acme/web', SHA_A)).toBe(WEB_CONFIG);
    expect(await source.readConfig('acme/web', SHA_B)).toBeUndefined();
    expect(github.tokensIssued).toBe(1);
    const contents = github.requests.filter((r) => r.path.includes('/contents/'));
    expect(contents.every((r) => r.auth === 'token ghs_installation1')).toBe(true);
  });

  it('mints a fresh installation token before the cached one expires (tokens last an hour)', async () => {
    github.files.set(`acme/web@${SHA_A}:.matinee.yml`, WEB_CONFIG);
    const source = asApp();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      await source.readConfig('acme/web', SHA_A);
      vi.setSystemTime(Date.now() + 58 * 60_000);
      await source.readConfig('acme/web', SHA_A);
      expect(github.tokensIssued).toBe(1);

      vi.setSystemTime(Date.now() + 2 * 60_000);
      await source.readConfig('acme/web', SHA_A);
    } finally {
      vi.useRealTimers();
    }

    expect(github.tokensIssued).toBe(2);
    const contents = github.requests.filter((r) => r.path.includes('/contents/'));
    expect(contents.at(-1)?.auth).toBe('token ghs_installation2');
  });

  it('works with a plain token for a single repository', async () => {
    github.files.set(`acme/web@${SHA_A}:.matinee.yml`, 'app: {}');
    expect(await withToken().readConfig('acme/web', SHA_A)).toBe('app: {}');
    expect(github.requests[0]?.auth).toBe('token github_pat_secret');
  });

  it('creates one sticky comment and then edits it in place', async () => {
    const source = withToken();
    github.comments.push({ id: 1, issue: 42, body: 'Looks good!' });
    await source.publish(report());
    await source.publish(report({ state: 'ready', sleepsAt: '2026-11-02T10:00:00.000Z' }));
    const mine = github.comments.filter((c) => c.body.includes(COMMENT_MARKER));
    expect(mine).toHaveLength(1);
    expect(mine[0]?.body).toContain('✅ Ready');
    expect(mine[0]?.body).toContain('https://fix-login-pr42.preview.example.com');
    expect(github.comments).toHaveLength(2);
  });

  it('shows the cost with the time it was computed, since the comment is not edited as it grows', async () => {
    await withToken().publish(report({ costSoFar: 0.1234, costAt: '2026-11-02T14:05:31.000Z' }));
    expect(renderedText(github.comments[0]?.body ?? '')).toContain(
      '≈ $0.12 so far, as of 2026-11-02 14:05 UTC',
    );
  });

  it('records a transient deployment per commit with statuses in_progress → success → inactive', async () => {
    const source = withToken();
    await source.publish(report({ state: 'building' }));
    await source.publish(report({ state: 'ready' }));
    await source.publish(report({ state: 'building', sha: SHA_B }));
    await source.publish(report({ state: 'removed', sha: SHA_B }));
    expect(github.deployments.map((d) => [d.sha, d.environment, d.transient])).toEqual([
      [SHA_A, 'preview/pr-42', true],
      [SHA_B, 'preview/pr-42', true],
    ]);
    expect(github.statuses.map((s) => s.state)).toEqual([
      'in_progress',
      'success',
      'in_progress',
      'inactive',
    ]);
    expect(github.statuses[1]?.environment_url).toBe('https://fix-login-pr42.preview.example.com');
  });

  it('marks the deployment inactive when the environment is torn down to not deployed', async () => {
    const source = withToken();
    await source.publish(report({ state: 'ready' }));
    await source.publish(
      report({ state: 'not-deployed', reason: 'draft pull request: deploys once ready for review' }),
    );
    expect(github.statuses.map((s) => s.state)).toEqual(['success', 'inactive']);
    expect(github.statuses[1]).toMatchObject({
      deployment: github.deployments[0]?.id,
      environment_url: undefined,
    });
  });

  it('reports a failure on the deployment with its reason', async () => {
    await withToken().publish(
      report({ state: 'failed', reason: 'stopped 3 times: Essential container in task exited' }),
    );
    expect(github.statuses).toEqual([
      expect.objectContaining({
        state: 'failure',
        description: 'stopped 3 times: Essential container in task exited',
      }),
    ]);
  });

  it('reads roles, treating non-collaborators as none', async () => {
    github.permissions.set('acme/web maintainer', 'maintain');
    const source = withToken();
    expect(await source.permission('acme/web', 'maintainer')).toBe('maintain');
    expect(await source.permission('acme/web', 'stranger')).toBe('none');
  });

  it('lists open pull requests across pages', async () => {
    for (let n = 1; n <= 130; n++) github.pulls.push({ number: n, head: { sha: SHA_A } });
    expect(await withToken().listOpenPullRequests('acme/web')).toHaveLength(130);
  });

  it('turns rate limits and server errors into transient errors the caller retries', async () => {
    github.rateLimited = 1;
    await expect(withToken().readConfig('acme/web', SHA_A)).rejects.toBeInstanceOf(TransientError);
    github.failing = 1;
    await expect(withToken().publish(report())).rejects.toBeInstanceOf(TransientError);
  });

  it('keeps what the pull request should show when GitHub rate-limits, and shows it on the next try', async () => {
    github.files.set(`acme/web@${SHA_A}:.matinee.yml`, WEB_CONFIG);
    const source = withToken();
    const cloud = new FakeCloud();
    const deps = {
      store: new InMemoryStore(),
      runtime: cloud,
      router: cloud,
      bus: new RecordingBus(),
      clock: new ManualClock(),
      source,
      log: new MemoryLogger(),
      settings: { stage: 'test', domain: 'preview.example.com' },
    };
    const id = environmentId('acme/web', 42);
    await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await reconcile(deps, id);
    github.rateLimited = 1;
    expect(await publishFeedback(deps, id)).toBe('failed');
    expect((await deps.store.get(id))?.observed.phase).toBe('starting');
    expect(await publishFeedback(deps, id)).toBe('published');
    expect(github.comments).toHaveLength(1);
    expect(deps.log.text).not.toContain('github_pat_secret');
  });

  it('ignores a fork’s deploy label added by someone who cannot write, asking GitHub who they are', async () => {
    github.files.set(`acme/web@${SHA_A}:.matinee.yml`, WEB_CONFIG);
    github.files.set(`acme/web@${facts().baseSha}:.matinee.yml`, WEB_CONFIG);
    github.permissions.set('acme/web triager', 'triage');
    const cloud = new FakeCloud();
    const deps = {
      store: new InMemoryStore(),
      runtime: cloud,
      router: cloud,
      bus: new RecordingBus(),
      clock: new ManualClock(),
      source: withToken(),
      log: new MemoryLogger(),
      settings: { stage: 'test', domain: 'preview.example.com' },
    };
    const id = environmentId('acme/web', 42);
    await onPullRequest(deps, {
      repo: 'acme/web',
      number: 42,
      action: 'labeled',
      facts: facts({ fork: true, labels: ['matinee:deploy'], labeledBy: { 'matinee:deploy': 'triager' } }),
    });
    await reconcile(deps, id);
    expect((await deps.store.get(id))?.observed.phase).toBe('skipped');
    expect(cloud.inventory()).toEqual([]);
  });

  it('answers a command with a reaction', async () => {
    await withToken().react('acme/web', 77, '+1');
    expect(github.reactions).toEqual([{ comment: 77, content: '+1' }]);
  });
});
