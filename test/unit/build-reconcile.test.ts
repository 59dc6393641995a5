import {
  environmentId,
  environmentView,
  lifecycleEvent,
  onPullRequest,
  resync,
  retryFailed,
  statusReport,
  sweep,
  TransientError,
  UserError,
  wake,
  wakeState,
} from '@matinee/core';
import { renderComment } from '@matinee/github';
import { describe, expect, it } from 'vitest';
import { facts, SHA_A, SHA_B } from '../support/environments.ts';
import { FakeImageBuilder } from '../support/fake-builder.ts';
import { harness } from '../support/harness.ts';

const ID = environmentId('acme/web', 42);
const MINUTE = 60_000;

const BUILD_CONFIG = `
app:
  port: 3000
  build:
    dockerfile: docker/web.Dockerfile
    target: prod
    args: { GIT_SHA: "{sha}", PR: "{pr}", BRANCH: "{branch}" }
sidecars:
  db: { image: postgres:16 }
  worker: { build: { context: worker } }
idle: 30m
`;

function built() {
  const h = harness();
  const builder = new FakeImageBuilder();
  h.deps.builder = builder;
  h.source.setConfig('acme/web', BUILD_CONFIG);
  return { h, builder };
}

type H = ReturnType<typeof harness>;

async function event(h: H, action: string, overrides: Parameters<typeof facts>[0] = {}) {
  await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action, facts: facts(overrides) });
  await h.drain();
}

/** The images the service's current task definition runs, by container. */
function images(h: H): Record<string, string> {
  const [revisions] = [...h.cloud.taskDefinitions.values()];
  const spec = revisions?.at(-1)?.spec;
  return Object.fromEntries((spec?.containers ?? []).map((c) => [c.name, c.image]));
}

describe('building images from source', () => {
  it('starts one build of the commit, with every build: container and its args filled, and waits in building', async () => {
    const { h, builder } = built();
    await event(h, 'opened');

    expect(builder.started).toHaveLength(1);
    const [request] = builder.started;
    expect(request).toMatchObject({ repo: 'acme/web', sha: SHA_A, attempt: 1 });
    expect(request?.images).toEqual([
      {
        container: 'app',
        dockerfile: 'docker/web.Dockerfile',
        context: '.',
        target: 'prod',
        args: { GIT_SHA: SHA_A, PR: '42', BRANCH: 'fix-login' },
      },
      { container: 'worker', dockerfile: 'Dockerfile', context: 'worker', args: {} },
    ]);
    const env = await h.store.get(ID);
    expect(env?.observed.phase).toBe('building');
    expect(env?.build).toMatchObject({ sha: SHA_A, state: 'queued', id: builder.last });
    // Nothing runs, and nothing is held, until the image exists.
    expect(h.cloud.services.size).toBe(0);
    expect(h.cloud.targetGroups.size).toBe(0);
    await h.reconcile(ID);
    expect(builder.started).toHaveLength(1);
  });

  it('says queued while the builder queues it, then building, with the build log in the comment', async () => {
    const { h, builder } = built();
    await event(h, 'opened');
    let env = await h.store.get(ID);
    let report = env && statusReport(env, h.clock.now());
    expect(report?.state).toBe('building');
    expect(report?.reason).toMatch(/^image build of aaaaaaa queued: it starts when a build slot is free/);
    expect(report?.buildLog).toBe(`https://logs.example.com/${builder.last}`);
    const comment = report ? renderComment(report) : '';
    expect(comment).toContain(`[build log](<https://logs.example.com/${builder.last}>)`);

    builder.set(builder.last, { state: 'building', log: { url: 'https://logs.example.com/live' } });
    await h.reconcile(ID);
    env = await h.store.get(ID);
    report = env && statusReport(env, h.clock.now());
    expect(env?.observed.phase).toBe('building');
    expect(report?.reason).toBe('building the image of aaaaaaa');
    expect(report?.buildLog).toBe('https://logs.example.com/live');
  });

  it('shows building on the dashboard (with the log) and the waking page (naming no commit), queued as queued', async () => {
    const { h, builder } = built();
    await event(h, 'opened');
    let env = await h.store.get(ID);
    if (!env) throw new Error('no environment');
    expect(environmentView(env, h.deps)).toMatchObject({
      state: 'building',
      reason: expect.stringContaining('queued'),
      buildLog: `https://logs.example.com/${builder.last}`,
    });
    expect(wakeState(env, false)).toMatchObject({
      kind: 'waking',
      note: 'Its image build is queued: it starts as soon as a build slot is free.',
    });
    const before = env;
    builder.set(builder.last, { state: 'building' });
    await h.reconcile(ID);
    env = await h.store.get(ID);
    if (!env) throw new Error('no environment');
    const page = wakeState(env, false);
    expect(page.kind === 'waking' && page.note).toMatch(/^Its image is being built/);
    expect(JSON.stringify(page.kind === 'waking' && page.note)).not.toContain('aaaaaaa');
    expect(
      lifecycleEvent({ ...before, observed: { ...before.observed, phase: 'pending' } }, before, h.clock.now())
        ?.message,
    ).toMatch(/building its image \(image build of aaaaaaa queued/);
  });

  it('deploys the built images once the build succeeds, images of CI-pushed containers as they are', async () => {
    const { h, builder } = built();
    await event(h, 'opened');
    builder.set(builder.last, { state: 'succeeded' });
    await h.reconcile(ID);
    h.cloud.startTasks();
    await h.reconcile(ID);

    const env = await h.store.get(ID);
    expect(env?.observed).toMatchObject({ phase: 'ready', sha: SHA_A });
    expect(env?.build?.state).toBe('succeeded');
    expect(images(h)).toEqual({
      app: expect.stringMatching(/:.*-app-aaaaaaaaaaaa$/),
      db: 'postgres:16',
      worker: expect.stringMatching(/:.*-worker-aaaaaaaaaaaa$/),
    });
  });

  it('fails the environment with the end of the build log, cleaned, and escaped in the comment', async () => {
    const { h, builder } = built();
    await event(h, 'opened');
    builder.set(builder.last, {
      state: 'failed',
      reason: 'docker build exited with 1',
      logTail: [
        ...Array.from({ length: 30 }, (_, i) => `step ${i}`),
        '\u001b[31mERROR\u001b[0m: npm ci failed',
        'NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789',
        '``` <!-- matinee:preview --> @everyone',
      ],
    });
    await h.reconcile(ID);

    const env = await h.store.get(ID);
    expect(env?.observed.phase).toBe('failed');
    const reason = env?.observed.failure?.reason ?? '';
    expect(reason).toMatch(
      /^image build of aaaaaaa failed: docker build exited with 1\n\nLast lines of the build log:\n/,
    );
    const lines = reason.split('\n').slice(3);
    expect(lines).toHaveLength(20);
    expect(lines).toContain('ERROR: npm ci failed');
    expect(reason).not.toContain('step 12');
    expect(reason).not.toContain('abcdefghijklmnop');
    expect(h.cloud.services.size).toBe(0);

    const report = env && statusReport(env, h.clock.now());
    expect(report?.state).toBe('failed');
    const comment = report ? renderComment(report) : '';
    // The log is a fenced block: its backticks cannot close the fence, nor add a second sticky marker.
    expect(comment.match(/<!-- matinee:preview -->/g)).toHaveLength(1);
    expect(comment).toContain('````\nimage build of aaaaaaa failed');
  });

  it('stops the older build when a newer push arrives, and builds the new commit', async () => {
    const { h, builder } = built();
    await event(h, 'opened');
    const first = builder.last;
    builder.set(first, { state: 'building' });
    await h.reconcile(ID);

    await event(h, 'synchronize', { headSha: SHA_B, updatedAt: '2026-11-02T09:10:00Z' });

    expect(builder.stopped).toEqual([first]);
    expect(builder.started.map((r) => r.sha)).toEqual([SHA_A, SHA_B]);
    const env = await h.store.get(ID);
    expect(env?.build).toMatchObject({ sha: SHA_B, state: 'queued', attempt: 1 });
    expect(env?.observed.phase).toBe('building');
    // The stopped build never deploys, even if it finishes after all.
    builder.set(first, { state: 'succeeded' });
    await h.reconcile(ID);
    expect(h.cloud.services.size).toBe(0);
  });

  it('keeps serving the previous commit while the pushed one builds', async () => {
    const { h, builder } = built();
    await event(h, 'opened');
    builder.set(builder.last, { state: 'succeeded' });
    await h.reconcile(ID);
    h.cloud.startTasks();
    await h.reconcile(ID);
    const before = images(h);

    await event(h, 'synchronize', { headSha: SHA_B, updatedAt: '2026-11-02T09:10:00Z' });
    const env = await h.store.get(ID);
    expect(env?.observed).toMatchObject({ phase: 'building', sha: SHA_A });
    expect(h.cloud.rules.size).toBe(1);
    expect(images(h)).toEqual(before);
  });

  it('wakes a sleeping environment with the image of its commit, never building again', async () => {
    const { h, builder } = built();
    await event(h, 'opened');
    builder.set(builder.last, { state: 'succeeded' });
    await h.reconcile(ID);
    h.cloud.startTasks();
    await h.reconcile(ID);
    const before = images(h);

    h.clock.advance(31 * MINUTE);
    expect((await sweep(h.deps)).slept).toEqual([ID]);
    await h.drain();
    const env = await h.store.get(ID);
    expect(env?.observed.phase).toBe('sleeping');
    await wake(h.deps, env?.host ?? '');
    await h.drain();
    h.cloud.startTasks();
    await h.reconcile(ID);

    expect((await h.store.get(ID))?.observed.phase).toBe('ready');
    expect(builder.started).toHaveLength(1);
    expect(images(h)).toEqual(before);
  });

  it('builds again on a retry after a failed build, as the next attempt', async () => {
    const { h, builder } = built();
    await event(h, 'opened');
    builder.set(builder.last, { state: 'failed', reason: 'exit 1', logTail: [] });
    await h.reconcile(ID);
    expect((await h.store.get(ID))?.observed.phase).toBe('failed');
    // Reconciling a failed commit again does not rebuild it.
    await h.reconcile(ID);
    expect(builder.started).toHaveLength(1);

    expect(await retryFailed(h.deps, ID)).toBe(true);
    await h.drain();
    expect(builder.started.map((r) => r.attempt)).toEqual([1, 2]);
    expect((await h.store.get(ID))?.observed.phase).toBe('building');
  });

  it('starts the build again when the builder no longer knows it', async () => {
    const { h, builder } = built();
    await event(h, 'opened');
    builder.statuses.delete(builder.last);
    await h.reconcile(ID);
    expect(builder.started.map((r) => r.attempt)).toEqual([1, 2]);
    expect((await h.store.get(ID))?.build?.attempt).toBe(2);
  });

  it('asks again, in the hourly resync, after a build whose end event was lost', async () => {
    const { h, builder } = built();
    await event(h, 'opened');
    h.source.open.set('acme/web', [{ number: 42, headSha: SHA_A }]);
    builder.set(builder.last, { state: 'succeeded' });
    h.clock.advance(20 * MINUTE);
    expect((await resync(h.deps, { dryRun: false })).stuck).toEqual([ID]);
    await h.drain();
    expect(h.cloud.services.size).toBe(1);
  });

  it('stops a running build when the pull request closes', async () => {
    const { h, builder } = built();
    await event(h, 'opened');
    const id = builder.last;
    await event(h, 'closed', { open: false, updatedAt: '2026-11-02T10:00:00Z' });
    expect(builder.stopped).toEqual([id]);
    const env = await h.store.get(ID);
    expect(env?.observed.phase).toBe('deleted');
    expect(env?.build).toBeUndefined();
  });

  it('never builds a fork commit no maintainer approved', async () => {
    const { h, builder } = built();
    await event(h, 'opened', { fork: true });
    expect(builder.started).toEqual([]);
    expect((await h.store.get(ID))?.observed.phase).toBe('skipped');
  });

  it('fails with the builder’s words when the build cannot start, and retries what is transient', async () => {
    const { h, builder } = built();
    builder.failStart = new UserError('the repository is larger than the 500 MB build limit');
    await event(h, 'opened');
    const env = await h.store.get(ID);
    expect(env?.observed.phase).toBe('failed');
    expect(env?.observed.failure?.reason).toBe(
      'image build of aaaaaaa could not start: the repository is larger than the 500 MB build limit',
    );

    const other = built();
    other.builder.failStart = new TransientError('throttled');
    await expect(event(other.h, 'opened')).rejects.toThrow('throttled');
    expect((await other.h.store.get(ID))?.observed.phase).toBe('pending');
  });

  it('fails a build: config where this deployment has no builder, saying how to use image: instead', async () => {
    const { h } = built();
    h.deps.builder = undefined;
    await event(h, 'opened');
    const env = await h.store.get(ID);
    expect(env?.observed.phase).toBe('failed');
    expect(env?.observed.failure?.reason).toMatch(/cannot do: use `image:` with an image your CI pushes/);
  });

  it('leaves an image: config alone: nothing built, nothing stopped', async () => {
    const h = harness();
    const builder = new FakeImageBuilder();
    h.deps.builder = builder;
    await event(h, 'opened');
    expect(builder.started).toEqual([]);
    expect((await h.store.get(ID))?.observed.phase).toBe('starting');
  });
});
