import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type EnvironmentId,
  environmentId,
  environmentRef,
  type ImageBuildRequest,
  onPullRequest,
  UserError,
} from '@matinee/core';
import { dockerBuildArgs, LocalImageBuilder, NO_DOCKER_FOR_BUILD } from '@matinee/local';
import { afterEach, describe, expect, it } from 'vitest';
import { facts, SHA_A } from '../support/environments.ts';
import { harness, SETTINGS } from '../support/harness.ts';

const ID = environmentId('acme/web', 42);
const REF = environmentRef(SETTINGS, { id: ID, slug: 'fix-login-pr42', host: 'fix-login-pr42.localhost' });

function request(overrides: Partial<ImageBuildRequest> = {}): ImageBuildRequest {
  return {
    ref: REF,
    repo: 'acme/web',
    sha: SHA_A,
    attempt: 1,
    images: [
      {
        container: 'app',
        dockerfile: 'docker/web.Dockerfile',
        context: '.',
        target: 'prod',
        args: { GIT_SHA: SHA_A, NOTE: 'a b; $(rm -rf /)' },
      },
      { container: 'worker', dockerfile: 'Dockerfile', context: 'worker', args: {} },
    ],
    ...overrides,
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * A `docker` on PATH that records each call's arguments (one per line, then a blank line), prints a few
 * lines, and exits with 3 when asked to build the `broken` target, or waits (to be stopped) for `slow`.
 */
function fakeDocker() {
  const dir = mkdtempSync(join(tmpdir(), 'matinee-fake-docker-'));
  dirs.push(dir);
  const calls = join(dir, 'calls');
  writeFileSync(
    join(dir, 'docker'),
    `#!/bin/sh
for arg in "$@"; do printf '%s\\n' "$arg" >> "${calls}"; done
printf '\\n' >> "${calls}"
echo "#1 [internal] load build definition"
echo "#2 RUN npm ci" >&2
case "$*" in
  *"--target broken"*) echo "npm ERR! missing script: build"; exit 3 ;;
  *"--target slow"*) exec sleep 60 ;;
esac
echo "#3 naming to docker.io/library/x done"
`,
  );
  chmodSync(join(dir, 'docker'), 0o755);
  const recorded = () =>
    readFileSync(calls, 'utf8')
      .split('\n\n')
      .filter(Boolean)
      .map((call) => call.split('\n'));
  return { dir, env: { PATH: `${dir}:/usr/bin:/bin` }, recorded };
}

function builder(env: Record<string, string>, docker = true) {
  const logDir = mkdtempSync(join(tmpdir(), 'matinee-build-logs-'));
  dirs.push(logDir);
  const finished: EnvironmentId[] = [];
  let notify: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    notify = resolve;
  });
  const local = new LocalImageBuilder({
    docker,
    sourceDir: '/src/repo',
    logDir,
    env,
    onFinished: (id) => {
      finished.push(id);
      notify();
    },
  });
  return { local, done, finished, logDir };
}

describe('docker build, locally', () => {
  it('builds with the file, target, args and context of the config, paths inside the repository', () => {
    const spec = request().images[0];
    if (!spec) throw new Error('no spec');
    expect(dockerBuildArgs('/src/repo', spec, 'matinee-local/x-app:abc')).toEqual([
      'build',
      '-f',
      '/src/repo/docker/web.Dockerfile',
      '--target',
      'prod',
      '--build-arg',
      `GIT_SHA=${SHA_A}`,
      '--build-arg',
      'NOTE=a b; $(rm -rf /)',
      '-t',
      'matinee-local/x-app:abc',
      '--label',
      'matinee.built=1',
      '/src/repo',
    ]);
    expect(() =>
      dockerBuildArgs(
        '/src/repo',
        { container: 'app', dockerfile: 'Dockerfile', context: '../other', args: {} },
        't',
      ),
    ).toThrow(UserError);
  });

  it('without a Docker engine, refuses to start, saying exactly what is missing', async () => {
    const { local } = builder({ PATH: '/nonexistent' }, false);
    await expect(local.start(request())).rejects.toThrow(new UserError(NO_DOCKER_FOR_BUILD));
    expect(NO_DOCKER_FOR_BUILD).toMatch(/no `local.command`, and no Docker engine/);
  });

  it('runs docker build for each image in order, each argument as one argument, and succeeds', async () => {
    const docker = fakeDocker();
    const { local, done, finished } = builder(docker.env);
    const { id } = await local.start(request());
    // Started twice: the same build.
    expect((await local.start(request())).id).toBe(id);
    await done;

    expect(await local.status(id)).toEqual({ state: 'succeeded' });
    expect(finished).toEqual([ID]);
    const calls = docker.recorded();
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual(
      dockerBuildArgs('/src/repo', request().images[0] as never, local.imageOf(REF, SHA_A, 'app')),
    );
    expect(calls[1]).toEqual([
      'build',
      '-f',
      '/src/repo/Dockerfile',
      '-t',
      local.imageOf(REF, SHA_A, 'worker'),
      '--label',
      'matinee.built=1',
      '/src/repo/worker',
    ]);
  });

  it('fails with the exit code and the output’s last lines, and writes the whole output to a file', async () => {
    const docker = fakeDocker();
    const { local, done, logDir } = builder(docker.env);
    const broken = request({
      images: [{ container: 'app', dockerfile: 'Dockerfile', context: '.', target: 'broken', args: {} }],
    });
    const { id } = await local.start(broken);
    await done;

    expect(await local.status(id)).toEqual({
      state: 'failed',
      reason: 'docker build of app exited with 3',
      logTail: expect.arrayContaining(['npm ERR! missing script: build', '#2 RUN npm ci']),
    });
    expect(readFileSync(join(logDir, `build-${id}.log`), 'utf8')).toContain(
      '#1 [internal] load build definition',
    );
  });

  it('stops a build when asked (a newer push), as failed: stopped', async () => {
    const docker = fakeDocker();
    const { local, done } = builder(docker.env);
    const slow = request({
      images: [{ container: 'app', dockerfile: 'Dockerfile', context: '.', target: 'slow', args: {} }],
    });
    const { id } = await local.start(slow);
    expect((await local.status(id))?.state).toBe('building');
    await local.stop(id);
    await done;
    expect(await local.status(id)).toMatchObject({ state: 'failed', reason: 'stopped' });
    // Unknown or finished: nothing to do.
    await local.stop('nope');
    await local.stop(id);
  });
});

describe('local previews of a build: config', () => {
  const CONFIG = 'app: { port: 3000, build: {} }';

  it('fail without Docker and without local.command, with that message', async () => {
    const h = harness();
    h.source.setConfig('acme/web', CONFIG);
    h.deps.builder = builder({ PATH: '/nonexistent' }, false).local;
    h.deps.localCommandFirst = true;
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();
    const env = await h.store.get(ID);
    expect(env?.observed.phase).toBe('failed');
    expect(env?.observed.failure?.reason).toBe(
      `image build of aaaaaaa could not start: ${NO_DOCKER_FOR_BUILD}`,
    );
  });

  it('run local.command without building anything', async () => {
    const h = harness();
    h.source.setConfig('acme/web', `${CONFIG}\nlocal: { command: npm start }`);
    h.deps.builder = builder({ PATH: '/nonexistent' }, false).local;
    h.deps.localCommandFirst = true;
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();
    const env = await h.store.get(ID);
    expect(env?.observed.phase).toBe('starting');
    expect(env?.build).toBeUndefined();
  });
});
