import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resyncWithGithub } from '../../functions/resync.ts';
import {
  awsDeployment,
  HOST,
  ID,
  pullRequest,
  REPO,
  SHA_1,
  SHA_2,
  serveRepo,
} from '../support/aws-deployment.ts';
import { WEB_CONFIG } from '../support/configs.ts';
import { localTable } from '../support/dynamo.ts';
import { type FakeAws, fakeAws } from '../support/fake-aws.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { BASE_SHA, command, fromFork, labeled } from '../support/github-events.ts';
import { renderedLine, renderedText } from '../support/markdown.ts';
import { example } from '../support/webhooks.ts';

/**
 * What a pull request sees, end to end: signed webhooks (GitHub's example payloads, adapted) into the
 * webhook function, reconciles on the fake AWS, and every GitHub API call over HTTP to the api.github.com
 * stand-in, whose comments, deployments and reactions are asserted.
 */
let github: FakeGithub;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
});
afterEach(() => github.stop());

const deployment = async (aws: FakeAws = fakeAws()) => ({
  aws,
  ...awsDeployment(aws, github, await localTable()),
});

const comment = () => github.comments.find((c) => c.issue === 42)?.body ?? '';
/** The comment as a reader sees it. */
const shown = () => renderedText(comment());

/** A fork's PR #42, labelled by a maintainer at SHA_1 and deployed, then pushed to SHA_2 by the fork. */
async function approvedForkPushed() {
  github.files.set(`${REPO}@${BASE_SHA}:.matinee.yml`, 'app: { image: x, port: 3000 }');
  github.permissions.set(`${REPO} maintainer`, 'maintain');
  const d = await deployment();
  await d.step('labelled', () => d.webhook('pull_request', labeled('maintainer', '2026-11-22T10:01:00Z')));
  const pushed = fromFork(
    'synchronize',
    { labels: [{ name: 'matinee:deploy' }] },
    '2026-11-22T10:02:00Z',
    SHA_2,
  );
  await d.step('fork pushed', () => d.webhook('pull_request', pushed));
  return d;
}

const images = (aws: FakeAws) =>
  aws.taskDefinitions.map((td) => td.input.containerDefinitions?.[0]?.image ?? '');

const BUILT_CONFIG = `${WEB_CONFIG}\nworkflow: build`;
const RUN_URL = 'https://github.com/acme/web/actions/runs/289782451';

function workflowRun(conclusion: string) {
  const payload = example('workflow_run', 'completed');
  payload.repository.full_name = REPO;
  Object.assign(payload.workflow_run, { name: 'build', head_sha: SHA_1, conclusion, html_url: RUN_URL });
  return payload;
}

describe('the pull request side, through GitHub’s API over HTTP', () => {
  it('keeps one comment, edited in place, and a deployment per commit with its status sequence', async () => {
    github.permissions.set(`${REPO} maintainer`, 'maintain');
    const d = await deployment();

    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );
    await d.step('sleep', () => d.webhook('issue_comment', command('/matinee sleep')));

    expect(github.comments.filter((c) => c.issue === 42)).toHaveLength(1);
    expect(comment()).toContain(`https://${HOST}`);
    expect(github.deployments).toEqual([
      expect.objectContaining({ sha: SHA_1, environment: 'preview/pr-42', transient: true }),
    ]);
    expect(github.statuses.map((s) => s.state)[0]).toBe('in_progress');
    expect(github.statuses.map((s) => s.state)).toContain('success');
  });

  it('deploys nothing for a fork without the label, and says why', async () => {
    github.files.set(`${REPO}@${BASE_SHA}:.matinee.yml`, 'app: { image: x, port: 3000 }');
    const d = await deployment();

    await d.step('fork opened', () => d.webhook('pull_request', fromFork('opened')));

    expect((await d.platform.store.get(ID))?.observed.phase).toBe('skipped');
    expect(d.aws.services.size).toBe(0);
    expect(comment()).toMatch(/fork/i);
  });

  it('deploys a fork once a maintainer adds the label, and ignores the label from anyone else', async () => {
    github.files.set(`${REPO}@${BASE_SHA}:.matinee.yml`, 'app: { image: x, port: 3000 }');
    github.permissions.set(`${REPO} drive-by`, 'read');
    github.permissions.set(`${REPO} maintainer`, 'maintain');
    const d = await deployment();

    await d.step('labelled by a reader', () =>
      d.webhook('pull_request', labeled('drive-by', '2026-11-22T10:01:00Z')),
    );
    expect((await d.platform.store.get(ID))?.observed.phase).toBe('skipped');
    expect(d.aws.services.size).toBe(0);

    await d.step('labelled by a maintainer', () =>
      d.webhook('pull_request', labeled('maintainer', '2026-11-22T10:02:00Z')),
    );
    expect((await d.platform.store.get(ID))?.observed.phase).toBe('ready');
  });

  it('keeps a fork’s new commit waiting for a maintainer, serving the approved one, and says why', async () => {
    const d = await approvedForkPushed();

    expect(images(d.aws)).toEqual([`ghcr.io/acme/web:${SHA_1}`]);
    expect((await d.platform.store.get(ID))?.observed).toMatchObject({ phase: 'pending', sha: SHA_1 });
    expect(github.deployments.map((deployment) => deployment.sha)).toEqual([SHA_1]);
    expect(comment()).toContain('⏳ Waiting for approval');
    expect(comment()).toContain(
      "commit 2222222 from the fork is waiting for a maintainer's approval (@maintainer approved 1111111)",
    );
  });

  it('deploys a fork’s new commit once a maintainer comments /matinee redeploy', async () => {
    const d = await approvedForkPushed();

    await d.step('approved', () => d.webhook('issue_comment', command('/matinee redeploy')));

    expect(images(d.aws).at(-1)).toBe(`ghcr.io/acme/web:${SHA_2}`);
    expect((await d.platform.store.get(ID))?.observed).toMatchObject({ phase: 'ready', sha: SHA_2 });
    expect(shown()).toContain('approved 2222222 from the fork; deploying it');
  });

  it('deploys a fork’s new commit once a maintainer removes the label and adds it again', async () => {
    const d = await approvedForkPushed();
    const unlabeled = fromFork('unlabeled', { labels: [] }, '2026-11-22T10:03:00Z', SHA_2);
    unlabeled.label = { ...example('pull_request', 'unlabeled').label, name: 'matinee:deploy' };
    await d.step('unlabelled', () => d.webhook('pull_request', unlabeled));

    await d.step('labelled again', () =>
      d.webhook('pull_request', labeled('maintainer', '2026-11-22T10:04:00Z', SHA_2)),
    );

    expect(images(d.aws).at(-1)).toBe(`ghcr.io/acme/web:${SHA_2}`);
    expect((await d.platform.store.get(ID))?.observed).toMatchObject({ phase: 'ready', sha: SHA_2 });
  });

  it('tears a fork’s environment down when its label is removed', async () => {
    github.files.set(`${REPO}@${BASE_SHA}:.matinee.yml`, 'app: { image: x, port: 3000 }');
    github.permissions.set(`${REPO} maintainer`, 'maintain');
    const d = await deployment();
    await d.step('labelled', () => d.webhook('pull_request', labeled('maintainer', '2026-11-22T10:01:00Z')));
    expect((await d.platform.store.get(ID))?.observed.phase).toBe('ready');

    const unlabeled = fromFork('unlabeled', { labels: [] }, '2026-11-22T10:02:00Z');
    unlabeled.label = { ...example('pull_request', 'unlabeled').label, name: 'matinee:deploy' };
    await d.step('unlabelled', () => d.webhook('pull_request', unlabeled));

    expect([...d.aws.services.values()].filter((service) => service.status === 'ACTIVE')).toEqual([]);
    expect(d.aws.targetGroups.size).toBe(0);
    expect((await d.platform.store.get(ID))?.observed.phase).toBe('skipped');
    expect(comment()).toContain('Not deployed');
    expect(github.statuses.at(-1)?.state).toBe('inactive');
  });

  it('obeys each command from a writer, reacting 👍, and answers others with 😕', async () => {
    github.permissions.set(`${REPO} maintainer`, 'maintain');
    github.permissions.set(`${REPO} reader`, 'read');
    const d = await deployment();
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );
    const env = () => d.platform.store.get(ID);

    await d.step('sleep', () => d.webhook('issue_comment', command('/matinee sleep')));
    expect((await env())?.observed.phase).toBe('sleeping');
    await d.step('wake', () => d.webhook('issue_comment', command('/matinee wake')));
    expect((await env())?.observed.phase).toBe('ready');
    await d.step('env', () => d.webhook('issue_comment', command('/matinee env FEATURE_X=on')));
    expect((await env())?.overrides).toEqual({ FEATURE_X: 'on' });
    await d.step('redeploy', () => d.webhook('issue_comment', command('/matinee redeploy')));
    const task = d.aws.taskDefinitions.at(-1)?.input.containerDefinitions?.[0]?.environment;
    expect(task).toContainEqual({ name: 'FEATURE_X', value: 'on' });
    await d.step('unset', () => d.webhook('issue_comment', command('/matinee env --unset FEATURE_X')));
    expect((await env())?.overrides ?? {}).toEqual({});
    await d.step('keep-awake', () => d.webhook('issue_comment', command('/matinee keep-awake 4h')));
    expect((await env())?.keepAwakeUntil).toBe(
      new Date(d.clock.now().getTime() + 4 * 3600_000).toISOString(),
    );
    await d.step('unknown', () => d.webhook('issue_comment', command('/matinee dance')));
    await d.step('reader', () => d.webhook('issue_comment', command('/matinee sleep', 'reader')));

    expect(github.reactions.map((r) => r.content)).toEqual([
      '+1',
      '+1',
      '+1',
      '+1',
      '+1',
      '+1',
      'confused',
      'confused',
    ]);
    expect((await env())?.observed.phase).toBe('ready');
    expect(comment()).toContain('needs write access');
  });

  it('keeps a command GitHub could not vouch for (a 5xx on the permission check) and obeys it on the next reconcile', async () => {
    github.permissions.set(`${REPO} maintainer`, 'maintain');
    const d = await deployment();
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );
    github.failing = 1;

    const answer = await d.webhook('issue_comment', command('/matinee sleep'));

    expect(JSON.parse(answer.body)).toMatchObject({ status: 'deferred' });
    expect((await d.platform.store.get(ID))?.pendingCommands).toEqual([
      expect.objectContaining({ user: 'maintainer', body: '/matinee sleep' }),
    ]);
    await d.settle();
    const env = await d.platform.store.get(ID);
    expect(env?.observed.phase).toBe('sleeping');
    expect(env?.pendingCommands).toBeUndefined();
    expect(github.reactions.map((r) => r.content)).toEqual(['+1']);
  });

  it('reports every problem of an invalid .matinee.yml in the comment, and deploys nothing', async () => {
    github.files.set(
      `${REPO}@${SHA_1}:.matinee.yml`,
      'app: { port: eighty }\nsize: { cpu: 300 }\nhealthcheck: /',
    );
    const d = await deployment();

    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );

    expect(d.aws.services.size).toBe(0);
    expect(comment()).toContain('app: needs `image`');
    expect(comment()).toContain('app.port');
    expect(comment()).toContain('healthcheck');
  });

  it('stays silent for a repository without .matinee.yml', async () => {
    github.files.clear();
    const d = await deployment();

    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );

    expect(d.aws.services.size).toBe(0);
    expect(github.comments).toEqual([]);
    expect(github.deployments).toEqual([]);
  });

  it('stays silent for a fork in a repository without .matinee.yml', async () => {
    github.files.clear();
    const d = await deployment();

    await d.step('fork opened', () => d.webhook('pull_request', fromFork('opened')));

    expect(d.aws.services.size).toBe(0);
    expect(github.comments).toEqual([]);
    expect(github.deployments).toEqual([]);
  });

  it('answers an unknown command with the short help in the comment', async () => {
    github.permissions.set(`${REPO} maintainer`, 'maintain');
    const d = await deployment();
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );

    await d.step('unknown', () => d.webhook('issue_comment', command('/matinee dance')));

    const answer = renderedLine(comment(), 'Last command |');
    expect(answer).toContain('/matinee dance by @maintainer: unknown command "dance"');
    expect(answer).toContain(
      'Commands: /matinee wake, /matinee sleep, /matinee approve <sha>, /matinee redeploy',
    );
  });

  it('shows a failed build in the comment, and deploys nothing', async () => {
    github.files.set(`${REPO}@${SHA_1}:.matinee.yml`, BUILT_CONFIG);
    const d = await deployment();
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );

    await d.step('build failed', () => d.webhook('workflow_run', workflowRun('failure')));

    expect(comment()).toContain('❌ Failed');
    expect(comment()).toContain(`workflow build failure: ${RUN_URL}`);
    expect(d.aws.services.size).toBe(0);
  });

  it('deploys a commit once its build succeeded', async () => {
    github.files.set(`${REPO}@${SHA_1}:.matinee.yml`, BUILT_CONFIG);
    const d = await deployment();
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );
    expect(d.aws.services.size).toBe(0);

    await d.step('built', () => d.webhook('workflow_run', workflowRun('success')));

    expect((await d.platform.store.get(ID))?.observed.phase).toBe('ready');
    expect(comment()).toContain('✅ Ready');
  });

  it('deploys a commit whose failed build succeeded when re-run', async () => {
    github.files.set(`${REPO}@${SHA_1}:.matinee.yml`, BUILT_CONFIG);
    const d = await deployment();
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );
    await d.step('build failed', () => d.webhook('workflow_run', workflowRun('failure')));

    await d.step('re-run passed', () => d.webhook('workflow_run', workflowRun('success')));

    expect((await d.platform.store.get(ID))?.observed.phase).toBe('ready');
    expect(comment()).toContain('✅ Ready');
  });

  it('catches the comment and deployment up on the next resync when GitHub rate-limited the close', async () => {
    const d = await deployment();
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );
    github.rateLimited = 1;
    await d.step('close', () =>
      d.webhook(
        'pull_request',
        pullRequest('closed', SHA_1, '2026-11-22T11:00:00Z', { state: 'closed', merged: true }),
      ),
    );
    expect(comment()).toContain('✅ Ready');
    d.clock.advance(11 * 60_000);

    await d.step('resync', () => resyncWithGithub(d.platform, {}));

    expect(comment()).toContain('🗑️ Removed');
    expect(github.statuses.at(-1)?.state).toBe('inactive');
  });

  it('catches the comment up on the next resync when GitHub failed with a 5xx while it went to sleep', async () => {
    github.permissions.set(`${REPO} maintainer`, 'maintain');
    const d = await deployment();
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );
    await d.webhook('issue_comment', command('/matinee sleep'));
    github.failing = 1;
    await d.settle();
    expect(comment()).toContain('✅ Ready');
    d.clock.advance(11 * 60_000);

    await d.step('resync', () => resyncWithGithub(d.platform, {}));

    expect(comment()).toContain('💤 Asleep');
  });
});
