import {
  environmentId,
  hourlyCost,
  onCommand,
  onPullRequest,
  onWorkflowRun,
  parseCommand,
  publishFeedback,
  statusReport,
  sweep,
  wake,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts, SHA_B } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

const ID = environmentId('acme/web', 42);

describe('parsing comment commands', () => {
  it.each([
    ['/matinee wake', { kind: 'wake' }],
    ['/matinee sleep', { kind: 'sleep' }],
    ['Thanks!\n/matinee redeploy\nmore text', { kind: 'redeploy' }],
    [
      '/matinee env API_URL=https://api.example.com/v1?a=b',
      { kind: 'env-set', key: 'API_URL', value: 'https://api.example.com/v1?a=b' },
    ],
    ['/matinee env EMPTY=', { kind: 'env-set', key: 'EMPTY', value: '' }],
    ['/matinee env --unset API_URL', { kind: 'env-unset', key: 'API_URL' }],
    ['/matinee keep-awake 4h', { kind: 'keep-awake', seconds: 14_400 }],
    ['/matinee', { kind: 'help' }],
  ])('reads %j', (body, command) => {
    expect(parseCommand(body)).toEqual(command);
  });

  it.each([
    ['/matinee deploy', 'unknown command "deploy"'],
    ['/matinee env 1BAD=x', 'usage: /matinee env KEY=VALUE'],
    ['/matinee keep-awake forever', 'usage: /matinee keep-awake 4h (a duration like 90m, 4h, 1d)'],
    ['/matinee keep-awake 30d', 'at most 7d'],
    ['/matinee wake now', 'wake takes no arguments'],
  ])('answers %j with help that says what is wrong', (body, problem) => {
    expect(parseCommand(body)).toEqual({ kind: 'help', problem });
  });

  it('ignores comments not addressed to Matinee', () => {
    expect(parseCommand('LGTM, but see /matinee docs')).toBeUndefined();
    expect(parseCommand('/matineewake')).toBeUndefined();
  });
});

describe('commands', () => {
  async function ready(h: ReturnType<typeof harness>) {
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();
    h.cloud.startTasks();
    await h.reconcile(ID);
    h.source.permissions.set('acme/web dev', 'write');
  }
  let comments = 0;
  const say = (h: ReturnType<typeof harness>, body: string, user = 'dev') =>
    onCommand(h.deps, { repo: 'acme/web', number: 42, commentId: ++comments, user, body });

  it('puts the environment to sleep and wakes it on a writer’s command, with a thumbs-up', async () => {
    const h = harness();
    await ready(h);
    expect(await say(h, '/matinee sleep')).toEqual({ status: 'done', reply: 'going to sleep' });
    await h.drain();
    expect((await h.store.get(ID))?.observed.phase).toBe('sleeping');
    expect(await say(h, '/matinee wake')).toEqual({ status: 'done', reply: 'waking up' });
    expect((await h.store.get(ID))?.desired.phase).toBe('running');
    expect(h.source.reactions.map((r) => r.reaction)).toEqual(['+1', '+1']);
  });

  it('refuses someone without write access, changes nothing else, and says why', async () => {
    const h = harness();
    await ready(h);
    const before = await h.store.get(ID);
    expect(await say(h, '/matinee sleep', 'passer-by')).toMatchObject({ status: 'refused' });
    const after = await h.store.get(ID);
    expect(after?.desired).toEqual(before?.desired);
    expect(after?.lastCommand?.reply).toBe(
      '@passer-by needs write access to the repository to use Matinee commands',
    );
    expect(h.source.reactions).toEqual([{ repo: 'acme/web', commentId: comments, reaction: 'confused' }]);
  });

  it('deploys an environment variable set by command, and removes it again', async () => {
    const h = harness();
    await ready(h);
    await say(h, '/matinee env FEATURE_X=on');
    await h.drain();
    const app = () => {
      const deployed = [...h.cloud.services.values()][0]?.taskDefinitionArn;
      const revisions = [...h.cloud.taskDefinitions.values()][0] ?? [];
      return revisions.find((revision) => revision.arn === deployed)?.spec.containers[0];
    };
    expect(app()?.env.FEATURE_X).toBe('on');

    await say(h, '/matinee env --unset FEATURE_X');
    await h.drain();
    expect(app()?.env.FEATURE_X).toBeUndefined();
  });

  it('says an awake environment restarts with a variable set by command', async () => {
    const h = harness();
    await ready(h);
    expect(await say(h, '/matinee env FEATURE_X=on')).toEqual({
      status: 'done',
      reply: 'FEATURE_X set; the environment restarts with it now',
    });
  });

  it('says a sleeping environment gets a variable set by command when it next starts', async () => {
    const h = harness();
    await ready(h);
    await say(h, '/matinee sleep');
    await h.drain();
    expect(await say(h, '/matinee env FEATURE_X=on')).toEqual({
      status: 'done',
      reply: 'FEATURE_X set; applied when it next starts',
    });
  });

  it('redeploys the same commit as a new revision', async () => {
    const h = harness();
    await ready(h);
    await say(h, '/matinee redeploy');
    await h.drain();
    expect([...h.cloud.taskDefinitions.values()][0]).toHaveLength(2);
  });

  it.each(['/matinee wake', '/matinee redeploy', '/matinee keep-awake 1h', '/matinee env A=1'])(
    'does not bring a closed pull request back on %j',
    async (body) => {
      const h = harness();
      await ready(h);
      await onPullRequest(h.deps, {
        repo: 'acme/web',
        number: 42,
        action: 'closed',
        facts: facts({ open: false, updatedAt: '2026-11-02T10:00:00Z' }),
      });
      await h.drain();

      expect(await say(h, body)).toEqual({
        status: 'refused',
        reply: 'the pull request is closed: its environment is removed',
      });
      await h.drain();

      expect((await h.store.get(ID))?.desired.phase).toBe('deleted');
      expect(h.cloud.inventory()).toEqual([]);
    },
  );

  it('keeps an environment awake past its idle window, then lets it sleep', async () => {
    const h = harness();
    await ready(h);
    await say(h, '/matinee keep-awake 2h');
    expect((await h.store.get(ID))?.keepAwakeUntil).toBe(
      new Date(h.clock.now().getTime() + 2 * 3600_000).toISOString(),
    );
    h.clock.advance(90 * 60_000);
    expect((await sweep(h.deps)).slept).toEqual([]);
    h.clock.advance(61 * 60_000);
    expect((await sweep(h.deps)).slept).toEqual([ID]);
  });
});

describe('approving a fork’s commits', () => {
  const LABEL = 'matinee:deploy';

  it('does not let a push that raced the label to the first reconcile ride on its approval', async () => {
    const h = harness();
    h.source.permissions.set('acme/web maintainer', 'maintain');
    const fork = (overrides: Parameters<typeof facts>[0]) =>
      facts({ fork: true, labels: [LABEL], ...overrides });
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'labeled',
      facts: fork({ labeledBy: { [LABEL]: 'maintainer' } }),
    });
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'synchronize',
      facts: fork({ headSha: SHA_B, updatedAt: '2026-11-02T09:01:00Z' }),
    });

    await h.drain();

    expect((await h.store.get(ID))?.observed.phase).toBe('pending');
    expect(h.cloud.inventory()).toEqual([]);
  });

  it("tells someone opening the link of a fork's unapproved commit what it waits for, and wakes nothing", async () => {
    const h = harness();
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'opened',
      facts: facts({ fork: true, labels: [LABEL], labeledBy: { [LABEL]: 'maintainer' } }),
    });
    h.source.permissions.set('acme/web maintainer', 'maintain');
    await h.drain();
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'synchronize',
      facts: facts({ fork: true, labels: [LABEL], headSha: SHA_B, updatedAt: '2026-11-02T09:05:00Z' }),
    });
    await h.drain();
    const before = await h.store.get(ID);
    expect(before?.observed.phase).toBe('pending');

    const state = await wake(h.deps, 'fix-login-pr42.preview.example.com');

    expect(state).toMatchObject({
      kind: 'skipped',
      reason: expect.stringContaining("maintainer's approval"),
    });
    expect((await h.store.get(ID))?.version).toBe(before?.version);
  });
});

describe('what the pull request shows', () => {
  it('goes building → ready → asleep → removed, publishing each change once', async () => {
    const h = harness();
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();
    expect(await publishFeedback(h.deps, ID)).toBe('published');
    expect(await publishFeedback(h.deps, ID)).toBe('unchanged');
    h.cloud.startTasks();
    await h.reconcile(ID);
    await publishFeedback(h.deps, ID);
    h.clock.advance(31 * 60_000);
    await sweep(h.deps);
    await h.drain();
    await publishFeedback(h.deps, ID);
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'closed',
      facts: facts({ open: false, updatedAt: '2026-11-02T10:00:00Z' }),
    });
    await h.drain();
    await publishFeedback(h.deps, ID);

    expect(h.source.published.map((r) => r.state)).toEqual(['building', 'ready', 'asleep', 'removed']);
    expect(h.source.published[1]).toMatchObject({
      url: 'https://fix-login-pr42.preview.example.com',
      environment: 'preview/pr-42',
      sleepsAt: '2026-11-02T09:30:00.000Z',
    });
  });

  it('estimates the cost so far from the time awake and the task size', async () => {
    const h = harness();
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();
    h.clock.advance(3_600_000);
    const env = await h.store.get(ID);
    const report = env && statusReport(env, h.clock.now());
    const perHour = hourlyCost({ cpu: 512, memory: 1024 }, true);
    expect(report?.costSoFar).toBeCloseTo(perHour, 2);
    expect(perHour).toBeCloseTo(0.5 * 0.012144 + 1 * 0.0013335, 6);
  });

  it('stays silent for a repository without .matinee.yml', async () => {
    const h = harness();
    h.source.files.clear();
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();
    expect(await publishFeedback(h.deps, ID)).toBe('silent');
    expect(h.source.published).toEqual([]);
  });

  it('stays silent for a fork that brings its own .matinee.yml to a repository without one', async () => {
    const h = harness();
    h.source.files.clear();
    h.source.setConfig('acme/web', 'app: { image: x, port: 3000 }', facts().headSha);
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'opened',
      facts: facts({ fork: true }),
    });
    await h.drain();
    expect(await publishFeedback(h.deps, ID)).toBe('silent');
    expect(h.source.published).toEqual([]);
  });

  it('shows an invalid config as not deployed, with every problem', async () => {
    const h = harness();
    h.source.setConfig('acme/web', 'app: { port: 0 }');
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();
    await publishFeedback(h.deps, ID);
    expect(h.source.published[0]).toMatchObject({
      state: 'not-deployed',
      reason: expect.stringMatching(/app\.port.*\n- app: needs `image`/s),
    });
  });

  it('does not lose an update GitHub refused: the next attempt publishes it', async () => {
    const h = harness();
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();
    h.source.failPublishes = 1;
    expect(await publishFeedback(h.deps, ID)).toBe('failed');
    expect((await h.store.get(ID))?.observed.phase).toBe('starting');
    expect(await publishFeedback(h.deps, ID)).toBe('published');
    expect(h.source.published).toHaveLength(1);
  });
});

describe('waiting for the image build', () => {
  const CONFIG = `app: { image: 'ghcr.io/acme/web:{sha}', port: 3000 }\nworkflow: build-image`;

  it('holds a commit until its workflow succeeds, then deploys it', async () => {
    const h = harness();
    h.source.setConfig('acme/web', CONFIG);
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();
    expect((await h.store.get(ID))?.observed).toMatchObject({
      phase: 'pending',
      reason: 'waiting for workflow build-image to build aaaaaaa',
    });
    expect(h.cloud.inventory()).toEqual([]);

    await onWorkflowRun(h.deps, {
      repo: 'acme/web',
      headSha: facts().headSha,
      workflow: 'lint',
      conclusion: 'success',
    });
    await h.drain();
    expect(h.cloud.inventory()).toEqual([]);

    await onWorkflowRun(h.deps, {
      repo: 'acme/web',
      headSha: facts().headSha,
      workflow: 'build-image',
      conclusion: 'success',
    });
    await h.drain();
    expect((await h.store.get(ID))?.observed.phase).toBe('starting');
  });

  it('deploys a commit whose failed build succeeded when re-run', async () => {
    const h = harness();
    h.source.setConfig('acme/web', CONFIG);
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    const run = { repo: 'acme/web', headSha: facts().headSha, workflow: 'build-image' };
    await onWorkflowRun(h.deps, { ...run, conclusion: 'failure' });
    await h.drain();
    expect((await h.store.get(ID))?.observed.phase).toBe('failed');

    await onWorkflowRun(h.deps, { ...run, conclusion: 'success' });
    await h.drain();

    expect((await h.store.get(ID))?.observed).toMatchObject({ phase: 'starting', failure: undefined });
    expect(h.cloud.services.size).toBe(1);
  });

  it('keeps a commit whose tasks crashed down when its build succeeds again', async () => {
    const h = harness();
    h.source.setConfig('acme/web', CONFIG);
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    const run = { repo: 'acme/web', headSha: facts().headSha, workflow: 'build-image' };
    await onWorkflowRun(h.deps, { ...run, conclusion: 'success' });
    await h.drain();
    const env = await h.store.get(ID);
    if (!env) throw new Error('no environment');
    const crashed = { sha: env.desired.sha, reason: 'stopped 3 times', at: env.updatedAt };
    await h.store.save({ ...env, observed: { ...env.observed, failure: crashed } });

    await onWorkflowRun(h.deps, { ...run, conclusion: 'success' });
    await h.drain();

    expect((await h.store.get(ID))?.observed).toMatchObject({ phase: 'failed', failure: crashed });
  });

  it('keeps serving the previous commit while the next one builds', async () => {
    const h = harness();
    h.source.setConfig('acme/web', CONFIG);
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await onWorkflowRun(h.deps, {
      repo: 'acme/web',
      headSha: facts().headSha,
      workflow: 'build-image',
      conclusion: 'success',
    });
    await h.drain();
    h.cloud.startTasks();
    await h.reconcile(ID);
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'synchronize',
      facts: facts({ headSha: SHA_B, updatedAt: '2026-11-02T09:05:00Z' }),
    });
    await h.drain();
    expect(h.cloud.rules.size).toBe(1);
    expect([...h.cloud.services.values()][0]?.desiredCount).toBe(1);
  });

  it('shows a failed build as the reason the commit is not deployed', async () => {
    const h = harness();
    h.source.setConfig('acme/web', CONFIG);
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await onWorkflowRun(h.deps, {
      repo: 'acme/web',
      headSha: facts().headSha,
      workflow: 'build-image',
      conclusion: 'failure',
      url: 'https://github.com/acme/web/actions/runs/1',
    });
    await h.drain();
    await publishFeedback(h.deps, ID);
    expect(h.source.published.at(-1)).toMatchObject({
      state: 'failed',
      reason: 'workflow build-image failure: https://github.com/acme/web/actions/runs/1',
    });
  });
});
