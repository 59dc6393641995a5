import { environmentId, onPullRequest, retryFailed, TransientError, UserError } from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { WEB_CONFIG } from '../support/configs.ts';
import { facts, SHA_B } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

const ID = environmentId('acme/web', 42);

async function opened(h: ReturnType<typeof harness>, overrides: Parameters<typeof facts>[0] = {}) {
  await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts(overrides) });
}

/** Opened, reconciled, its task up and healthy, and reconciled again: ready behind its host rule. */
async function serving(h: ReturnType<typeof harness>) {
  await opened(h);
  await h.drain();
  h.cloud.startTasks();
  await h.reconcile(ID);
}

describe('reconcile', () => {
  it('records a teardown as deleting before it starts, so one cut short says what is under way', async () => {
    const h = harness();
    await serving(h);
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'closed',
      facts: facts({ open: false, updatedAt: '2026-11-02T10:00:00Z' }),
    });
    h.bus.requests.length = 0;
    h.cloud.failIn(2, 'before', new TransientError('Rate exceeded'));

    await expect(h.reconcile(ID)).rejects.toBeInstanceOf(TransientError);
    expect((await h.store.get(ID))?.observed.phase).toBe('deleting');

    expect((await h.reconcile(ID))?.observed.phase).toBe('deleted');
    expect(h.cloud.inventory()).toEqual([]);
  });

  it('creates target group, task definition and service, then the host rule once tasks are healthy', async () => {
    const h = harness();
    await opened(h);
    await h.drain();
    expect((await h.store.get(ID))?.observed.phase).toBe('starting');
    expect(h.cloud.rules.size).toBe(0);

    h.cloud.startTasks();
    const env = await h.reconcile(ID);

    expect(env?.observed).toMatchObject({ phase: 'ready', sha: facts().headSha });
    expect(h.cloud.rules.get('fix-login-pr42.preview.example.com')).toBeDefined();
    expect(h.cloud.inventory()).toHaveLength(4);
  });

  it('renders the task from the config at the head commit, templates filled', async () => {
    const h = harness();
    await opened(h);
    await h.drain();
    const [revision] = [...h.cloud.taskDefinitions.values()][0] ?? [];
    expect(revision?.spec.containers.map((c) => [c.name, c.image])).toEqual([
      ['app', `ghcr.io/acme/web:${facts().headSha}`],
      ['db', 'postgres:16'],
    ]);
    expect(revision?.spec.containers[0]?.env.PUBLIC_URL).toBe('https://fix-login-pr42.preview.example.com');
  });

  it('changes nothing and writes nothing when run again on a converged environment', async () => {
    const h = harness();
    await serving(h);
    const calls = h.cloud.calls.length;
    const writes = h.store.writes;

    await h.reconcile(ID);

    expect(h.cloud.calls.slice(calls).filter((c) => c !== 'describe')).toEqual([]);
    expect(h.store.writes).toBe(writes);
  });

  it('converges when five reconciles of one environment run at once', async () => {
    const h = harness();
    await opened(h);
    await Promise.all(Array.from({ length: 5 }, () => h.reconcile(ID)));
    h.cloud.startTasks();
    await Promise.all(Array.from({ length: 5 }, () => h.reconcile(ID)));

    expect((await h.store.get(ID))?.observed.phase).toBe('ready');
    expect([...h.cloud.taskDefinitions.values()][0]).toHaveLength(1);
    expect(h.cloud.inventory()).toHaveLength(4);
  });

  it('reads the config once per commit, not on every run', async () => {
    const h = harness();
    await opened(h);
    await h.drain();
    await h.reconcile(ID);
    await h.reconcile(ID);
    expect(h.source.reads).toBe(1);
  });

  it('records a failure the author can fix as failed, with the reason, against that commit', async () => {
    const h = harness();
    h.cloud.faults = [
      { call: 2, when: 'before', error: new UserError('image ghcr.io/acme/web:aaaa not found') },
    ];
    await opened(h);
    await h.drain();
    expect((await h.store.get(ID))?.observed).toMatchObject({
      phase: 'failed',
      failure: { sha: facts().headSha, reason: 'image ghcr.io/acme/web:aaaa not found' },
    });
  });

  it('keeps a failed commit scaled to zero and without a rule, so it costs nothing', async () => {
    const h = harness();
    await serving(h);
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'synchronize',
      facts: facts({ headSha: SHA_B, updatedAt: '2026-11-02T09:05:00Z' }),
    });
    h.cloud.failIn(2, 'before', new UserError('essential container app exited'));
    await h.drain();
    expect((await h.store.get(ID))?.observed.phase).toBe('failed');
    h.cloud.startTasks();

    const env = await h.reconcile(ID);

    expect(env?.observed.phase).toBe('failed');
    expect([...h.cloud.services.values()].map((s) => s.desiredCount)).toEqual([0]);
    expect(h.cloud.rules.size).toBe(0);
  });

  it('tries again on a push after a failure, and on a retry of the same commit', async () => {
    const h = harness();
    h.cloud.faults = [{ call: 2, when: 'before', error: new UserError('image not found') }];
    await opened(h);
    await h.drain();

    expect(await retryFailed(h.deps, ID)).toBe(true);
    await h.drain();
    expect((await h.store.get(ID))?.observed.phase).toBe('starting');
    expect(await retryFailed(h.deps, ID)).toBe(false);
  });

  it('records an unexpected failure and rethrows it so the bus retries', async () => {
    const h = harness();
    h.cloud.faults = [{ call: 1, when: 'before', error: new Error('socket hang up') }];
    await opened(h);
    await expect(h.reconcile(ID)).rejects.toThrow('socket hang up');
    expect((await h.store.get(ID))?.observed).toMatchObject({
      phase: 'pending',
      lastError: 'socket hang up',
    });
    await h.reconcile(ID);
    expect((await h.store.get(ID))?.observed).toMatchObject({ phase: 'starting' });
    expect((await h.store.get(ID))?.observed.lastError).toBeUndefined();
  });
});

describe('deploy policy', () => {
  async function phaseAfterOpen(
    setup: (h: ReturnType<typeof harness>) => void,
    overrides: Parameters<typeof facts>[0] = {},
  ) {
    const h = harness();
    setup(h);
    await opened(h, overrides);
    await h.drain();
    return { env: await h.store.get(ID), h };
  }

  it('skips a repository without .matinee.yml and creates nothing', async () => {
    const { env, h } = await phaseAfterOpen((h) => h.source.files.clear());
    expect(env?.observed).toMatchObject({ phase: 'skipped', reason: 'no .matinee.yml in the repository' });
    expect(h.cloud.inventory()).toEqual([]);
  });

  it('skips an invalid config and says every problem', async () => {
    const { env, h } = await phaseAfterOpen((h) => h.source.setConfig('acme/web', 'app: { port: 0 }'));
    expect(env?.observed.phase).toBe('skipped');
    expect(env?.observed.reason).toMatch(/app\.port: .*\n- app: needs `image` .* or `build`/s);
    expect(h.cloud.inventory()).toEqual([]);
  });

  it('skips branches matching a skip glob', async () => {
    const { env } = await phaseAfterOpen(() => {}, { branch: 'docs/typo-no-infra' });
    expect(env?.observed).toMatchObject({
      phase: 'skipped',
      reason: 'branch docs/typo-no-infra matches skip pattern *-no-infra',
    });
  });

  it('holds drafts until they are ready for review', async () => {
    const { env, h } = await phaseAfterOpen(() => {}, { draft: true });
    expect(env?.observed.phase).toBe('skipped');

    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'ready_for_review',
      facts: facts({ updatedAt: '2026-11-02T09:05:00Z' }),
    });
    await h.drain();
    expect((await h.store.get(ID))?.observed.phase).toBe('starting');
  });

  it('deploys drafts when the config says drafts: true', async () => {
    const { env, h } = await phaseAfterOpen(
      (h) => h.source.setConfig('acme/web', `${WEB_CONFIG}drafts: true\n`),
      { draft: true },
    );
    expect(env?.observed.phase).toBe('starting');
    expect(h.cloud.services.size).toBe(1);
  });

  it('deploys a fork only once a maintainer puts the label on it', async () => {
    const { env, h } = await phaseAfterOpen(() => {}, { fork: true });
    expect(env?.observed.reason).toMatch(
      /comment \/matinee approve aaaaaaa \(adding the label matinee:deploy/,
    );
    h.source.permissions.set('acme/web maintainer', 'maintain');

    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'labeled',
      facts: facts({
        fork: true,
        labels: ['matinee:deploy'],
        labeledBy: { 'matinee:deploy': 'maintainer' },
        updatedAt: '2026-11-02T09:05:00Z',
      }),
    });
    await h.drain();
    expect((await h.store.get(ID))?.observed.phase).toBe('starting');
  });

  it('ignores a fork’s deploy label added by someone without write access', async () => {
    const { env } = await phaseAfterOpen((h) => h.source.permissions.set('acme/web triager', 'triage'), {
      fork: true,
      labels: ['matinee:deploy'],
      labeledBy: { 'matinee:deploy': 'triager' },
    });
    expect(env?.observed).toMatchObject({
      phase: 'skipped',
      reason:
        'the label matinee:deploy was added by @triager, who has no write access, so it approves nothing: ' +
        "commit aaaaaaa from the fork waits for a maintainer's approval: after reviewing it, comment /matinee approve aaaaaaa",
    });
  });

  it('takes a fork policy from the base commit, so a fork cannot allow itself', async () => {
    const { env } = await phaseAfterOpen(
      (h) =>
        h.source.setConfig(
          'acme/web',
          'app: { image: x, port: 1 }\nforks: { policy: never }',
          facts().baseSha,
        ),
      { fork: true, labels: ['matinee:deploy'] },
    );
    expect(env?.observed).toMatchObject({
      phase: 'skipped',
      reason: 'pull requests from forks are not deployed',
    });
  });

  it('tears a deployed environment down when it becomes a draft', async () => {
    const h = harness();
    await opened(h);
    await h.drain();
    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'converted_to_draft',
      facts: facts({ draft: true, updatedAt: '2026-11-02T09:05:00Z' }),
    });
    await h.drain();
    expect((await h.store.get(ID))?.observed.phase).toBe('skipped');
    expect(h.cloud.inventory()).toEqual([]);
  });
});

describe('reconcile after crashes', () => {
  /** open → ready → sleep → wake → push → close, retrying each reconcile until it stops failing. */
  async function lifecycle(h: ReturnType<typeof harness>) {
    const settle = async () => {
      for (let i = 0; i < 10; i++) {
        try {
          await h.reconcile(ID);
          return;
        } catch {
          // The bus delivers again after a failed run.
        }
      }
      throw new Error('reconcile did not converge in 10 runs');
    };
    const desire = async (phase: 'running' | 'sleeping' | 'deleted', sha?: string) => {
      const env = await h.store.get(ID);
      if (!env) throw new Error('no environment');
      await h.store.save({ ...env, desired: { ...env.desired, phase, sha: sha ?? env.desired.sha } });
    };
    await opened(h);
    await settle();
    h.cloud.startTasks();
    await settle();
    await settle();
    expect((await h.store.get(ID))?.observed.phase).toBe('ready');
    await desire('sleeping');
    await settle();
    expect((await h.store.get(ID))?.observed.phase).toBe('sleeping');
    await desire('running');
    await settle();
    h.cloud.startTasks();
    await settle();
    await settle();
    expect((await h.store.get(ID))?.observed.phase).toBe('ready');
    await desire('running', SHA_B);
    await settle();
    h.cloud.startTasks();
    await settle();
    expect((await h.store.get(ID))?.observed).toMatchObject({ phase: 'ready', sha: SHA_B });
    await desire('deleted');
    await settle();
  }

  const healthy = harness();
  it('runs the whole lifecycle without faults and leaves nothing behind', async () => {
    await lifecycle(healthy);
    expect((await healthy.store.get(ID))?.observed.phase).toBe('deleted');
    expect(healthy.cloud.inventory()).toEqual([]);
  });

  const mutations = () =>
    healthy.cloud.calls.filter((call) => call !== 'describe' && call !== 'requestActivity').length;
  for (const when of ['before', 'after'] as const) {
    it(`converges and leaks nothing with a crash ${when} any one of the lifecycle's cloud calls`, async () => {
      expect(mutations()).toBeGreaterThan(8);
      for (let call = 1; call <= mutations(); call++) {
        const h = harness();
        h.cloud.faults = [{ call, when }];
        await lifecycle(h);
        expect((await h.store.get(ID))?.observed.phase, `crash ${when} call ${call}`).toBe('deleted');
        expect(h.cloud.inventory(), `crash ${when} call ${call}`).toEqual([]);
      }
    });
  }
});
