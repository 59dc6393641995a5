import { execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId, onPullRequest, reconcile, type TaskEvent } from '@matinee/core';
import { appBaseEnv, dockerAvailable, ProcessCloud } from '@matinee/local';
import { afterEach, describe, expect, it } from 'vitest';
import { facts, SHA_B } from '../support/environments.ts';
import {
  FakeSourceControl,
  InMemoryStore,
  ManualClock,
  MemoryLogger,
  RecordingBus,
} from '../support/fakes.ts';
import { until } from '../support/until.ts';

const HELLO = resolve(import.meta.dirname, '../../examples/hello');
const FIXTURES = resolve(import.meta.dirname, '../fixtures');
const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.localhost';

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const clouds: ProcessCloud[] = [];
/** The stand-in Docker CLI's records: removed only once every cloud has stopped its containers. */
const states: string[] = [];
afterEach(async () => {
  await Promise.all(clouds.splice(0).map((cloud) => cloud.shutdown()));
  for (const state of states.splice(0)) rmSync(state, { recursive: true, force: true });
});

function setup(
  config = `app: { image: 'hello:{sha}', port: 3000, health: /health }\nlocal: { command: node server.js, cwd: ${HELLO} }`,
  options: Partial<ConstructorParameters<typeof ProcessCloud>[0]> = {},
) {
  const events: TaskEvent[] = [];
  const cloud = new ProcessCloud({
    logDir: resolve(import.meta.dirname, '../../.matinee/test-logs'),
    defaultCwd: HELLO,
    baseEnv: appBaseEnv(process.env),
    stopGraceMs: 2000,
    onTaskEvent: (event) => events.push(event),
    ...options,
  });
  clouds.push(cloud);
  const source = new FakeSourceControl();
  source.setConfig('acme/web', config);
  const deps = {
    store: new InMemoryStore(),
    runtime: cloud,
    router: cloud,
    bus: new RecordingBus(),
    clock: new ManualClock(),
    source,
    log: new MemoryLogger(),
    settings: { stage: 'local', domain: 'localhost' },
  };
  return { cloud, deps, events };
}

describe('local processes as the runtime', () => {
  it('runs the app, routes its host once healthy, and serves its branch and commit', async () => {
    const { cloud, deps } = setup();
    await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await reconcile(deps, ID);
    await until('healthy', () => cloud.processes().find((p) => p.healthy));
    await reconcile(deps, ID);

    const port = cloud.route(HOST);
    expect(port).toBeDefined();
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(page).toContain('fix-login');
    expect(page).toContain(facts().headSha.slice(0, 7));
    expect((await deps.store.get(ID))?.observed.phase).toBe('ready');
  });

  it("runs the seed once the app is healthy, with the app's variables and port", async () => {
    const seeded = resolve(tmpdir(), `matinee-seed-${process.pid}-${Date.now()}`);
    const { cloud, deps } = setup(
      `app: { image: x, port: 3000, health: /health }\nseed: [sh, -c, 'echo "$MATINEE_BRANCH $PORT" > ${seeded}']\nlocal: { command: node server.js, cwd: ${HELLO} }`,
    );
    await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await reconcile(deps, ID);
    const app = await until('healthy', () => cloud.processes().find((p) => p.healthy));

    const written = await until('the seed', () =>
      existsSync(seeded) ? readFileSync(seeded, 'utf8') : undefined,
    );

    expect(written.trim()).toBe(`fix-login ${app.port}`);
    rmSync(seeded, { force: true });
  });

  it('replaces the process on a push and stops every process when the environment goes', async () => {
    const { cloud, deps } = setup();
    await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await reconcile(deps, ID);
    const first = await until('a process', () => cloud.processes()[0]);

    await onPullRequest(deps, {
      repo: 'acme/web',
      number: 42,
      action: 'synchronize',
      facts: facts({ headSha: SHA_B, updatedAt: '2026-11-02T09:05:00Z' }),
    });
    await reconcile(deps, ID);
    const second = await until('the new process healthy', () =>
      cloud.processes().find((p) => p.healthy && p.pid !== first.pid),
    );
    expect(alive(first.pid)).toBe(false);
    expect(await (await fetch(`http://127.0.0.1:${second.port}/`)).text()).toContain(SHA_B.slice(0, 7));

    await onPullRequest(deps, {
      repo: 'acme/web',
      number: 42,
      action: 'closed',
      facts: facts({ headSha: SHA_B, open: false, updatedAt: '2026-11-02T09:06:00Z' }),
    });
    await reconcile(deps, ID);
    expect(cloud.processes()).toEqual([]);
    expect(alive(second.pid)).toBe(false);
    expect(await cloud.listOwned()).toEqual([]);
  });

  it('reports a crashing app as stopped tasks and restarts it with back-off', async () => {
    const { deps, events } = setup(
      `app: { image: x, port: 3000 }\nlocal: { command: 'echo starting; exit 3' }`,
    );
    await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await reconcile(deps, ID);
    await until(
      'two crashes',
      () => events.filter((e) => e.lastStatus === 'STOPPED').length >= 2 || undefined,
    );
    expect(events[0]).toMatchObject({
      service: 'matinee-local-fix-login-pr42',
      lastStatus: 'STOPPED',
      stopCode: 'TaskFailedToStart',
      stoppedReason: expect.stringContaining('code 3'),
    });
    // Each stop is its own task: counted once each, however the events are delivered.
    const stops = events.filter((e) => e.lastStatus === 'STOPPED').map((e) => e.taskArn);
    expect(new Set(stops).size).toBe(stops.length);
    expect(stops[0]).toMatch(/^local:task\/matinee-local-fix-login-pr42\/[0-9a-f-]{36}$/);
  });

  it('leaves no process behind on shutdown, children of the shell included', async () => {
    const { cloud, deps } = setup(
      `app: { image: x, port: 3000 }\nlocal: { command: 'sleep 313 & node server.js', cwd: ${HELLO} }`,
    );
    await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await reconcile(deps, ID);
    const { pid } = await until('healthy', () => cloud.processes().find((p) => p.healthy));
    expect(execSync('pgrep -f "sleep 31[3]" || true').toString().trim()).not.toBe('');
    await cloud.shutdown();
    expect(alive(pid)).toBe(false);
    expect(execSync('pgrep -f "sleep 31[3]" || true').toString().trim()).toBe('');
    expect(cloud.processes()).toEqual([]);
  });

  it('starts one process however many reconciles ask at once', async () => {
    const { cloud, deps } = setup(
      `app: { image: x, port: 3000, health: /health }\nlocal: { command: node server.js --only-once-7711, cwd: ${HELLO} }`,
    );
    await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });

    await Promise.all([reconcile(deps, ID), reconcile(deps, ID), reconcile(deps, ID)]);
    await until('healthy', () => cloud.processes().find((p) => p.healthy));

    expect(
      execSync('pgrep -f "^node server.js --only-once-771[1]" || true').toString().trim().split('\n'),
    ).toHaveLength(1);
  });

  it('stops an app that never passes its health check and reports a failed start', async () => {
    const { deps, events } = setup(
      `app: { image: x, port: 3000, health: /health }\nlocal: { command: sleep 300 }`,
      {
        startTimeoutMs: 500,
      },
    );
    await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await reconcile(deps, ID);

    const stopped = await until('a stopped task', () => events.find((e) => e.lastStatus === 'STOPPED'));

    expect(stopped).toMatchObject({
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: expect.stringContaining('did not pass its health check'),
    });
    expect(execSync('pgrep -fx "sleep 300" || true').toString().trim()).toBe('');
  });

  it('replaces an app that fails its health checks after being healthy', async () => {
    const { cloud, deps, events } = setup(
      `app: { image: x, port: 3000, health: /health }\nlocal: { command: node stream-app.js, cwd: ${FIXTURES} }`,
      { healthyIntervalMs: 50, unhealthyThreshold: 2 },
    );
    await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await reconcile(deps, ID);
    const sick = await until('healthy', () => cloud.processes().find((p) => p.healthy));

    await fetch(`http://127.0.0.1:${sick.port}/sicken`);

    const stopped = await until('a stopped task', () => events.find((e) => e.lastStatus === 'STOPPED'));
    expect(stopped).toMatchObject({
      stopCode: 'ServiceSchedulerInitiated',
      stoppedReason: expect.stringContaining('failed 2 health checks'),
    });
    expect(alive(sick.pid)).toBe(false);
    await until('a healthy replacement', () =>
      cloud.processes().find((p) => p.healthy && p.pid !== sick.pid),
    );
  });
});

/**
 * Local mode's container runtime, against a stand-in for the Docker CLI (test/fixtures/fake-docker/docker):
 * no Docker engine runs here, so these check what Matinee asks Docker to do and that it cleans up after.
 */
const FAKE_DOCKER = resolve(import.meta.dirname, '../fixtures/fake-docker');
const DOCKER_CONFIG = `app:
  image: ghcr.io/acme/web:{sha}
  port: 3000
  health: /health
  env: { DATABASE_URL: 'postgres://postgres@localhost:5432/app' }
sidecars:
  db: { image: 'postgres:16', env: { POSTGRES_PASSWORD: pw } }
`;

/** `setup` with Docker, the stand-in CLI first on PATH recording each container under its own folder. */
function dockerSetup(config = DOCKER_CONFIG) {
  const state = mkdtempSync(join(tmpdir(), 'matinee-fake-docker-'));
  states.push(state);
  const env = {
    ...appBaseEnv(process.env),
    PATH: `${FAKE_DOCKER}:${process.env.PATH}`,
    FAKE_DOCKER_STATE: state,
  };
  const containers = () =>
    readdirSync(state)
      .filter((file) => file.endsWith('.json'))
      .map((file) => JSON.parse(readFileSync(join(state, file), 'utf8')));
  return { ...setup(config, { docker: true, baseEnv: env, defaultCwd: state }), env, containers };
}

describe('local previews as Docker containers', () => {
  it('runs the sidecars, then the app in their network with its port on loopback, and serves the app', async () => {
    const { cloud, deps, containers } = dockerSetup();
    await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await reconcile(deps, ID);
    await until('healthy', () => cloud.processes().find((p) => p.healthy));
    await reconcile(deps, ID);

    const port = cloud.route(HOST);
    const [db, app] = ['db', 'app'].map((name) => containers().find((c) => c.name.endsWith(`-${name}`)));
    expect(db).toMatchObject({ image: 'postgres:16', detached: true, publish: `127.0.0.1:${port}:3000` });
    expect(db.env).toMatchObject({ POSTGRES_PASSWORD: 'pw', MATINEE_BRANCH: 'fix-login' });
    expect(app).toMatchObject({
      image: `ghcr.io/acme/web:${facts().headSha}`,
      detached: false,
      network: `container:${db.name}`,
    });
    expect(app.env).toMatchObject({ PORT: '3000', DATABASE_URL: 'postgres://postgres@localhost:5432/app' });
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(page).toContain('Hello from <code>fix-login</code>');
  });

  it('removes every container of the task when the environment goes', async () => {
    const { cloud, deps, containers } = dockerSetup();
    await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await reconcile(deps, ID);
    await until('healthy', () => cloud.processes().find((p) => p.healthy));
    expect(containers()).toHaveLength(2);

    await onPullRequest(deps, {
      repo: 'acme/web',
      number: 42,
      action: 'closed',
      facts: facts({ open: false, updatedAt: '2026-11-02T10:00:00Z' }),
    });
    await reconcile(deps, ID);

    expect(containers()).toEqual([]);
    expect(cloud.processes()).toEqual([]);
  });

  it('reports a sidecar image that cannot be pulled as a task that failed to start', async () => {
    const { deps, events, containers } = dockerSetup(
      DOCKER_CONFIG.replace("'postgres:16'", "'unpullable:1'"),
    );
    await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await reconcile(deps, ID);

    const stopped = await until('a stopped task', () => events.find((e) => e.lastStatus === 'STOPPED'));
    expect(stopped).toMatchObject({
      stopCode: 'TaskFailedToStart',
      stoppedReason: expect.stringContaining("Unable to find image 'unpullable:1'"),
    });
    expect(containers()).toEqual([]);
  });

  it('finds a Docker engine when one answers, and none when the CLI is missing', async () => {
    const { env } = dockerSetup();
    expect(await dockerAvailable(env)).toBe(true);
    expect(await dockerAvailable({ PATH: '/nonexistent' })).toBe(false);
    expect(existsSync(join(FAKE_DOCKER, 'docker'))).toBe(true);
  });
});
