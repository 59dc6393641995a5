import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId, onPullRequest, reconcile, type TaskEvent } from '@matinee/core';
import { appBaseEnv, dockerAvailable, ProcessCloud } from '@matinee/local';
import { afterEach, describe, expect, it } from 'vitest';
import { facts } from '../support/environments.ts';
import {
  FakeSourceControl,
  InMemoryStore,
  ManualClock,
  MemoryLogger,
  RecordingBus,
} from '../support/fakes.ts';
import { until } from '../support/until.ts';

/**
 * Local mode's container runtime, against a stand-in for the Docker CLI (test/fixtures/fake-docker/docker):
 * no Docker engine runs here, so these check what Matinee asks Docker to do and that it cleans up after.
 */
const FAKE_DOCKER = resolve(import.meta.dirname, '../fixtures/fake-docker');
const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.localhost';
const CONFIG = `app:
  image: ghcr.io/acme/web:{sha}
  port: 3000
  health: /health
  env: { DATABASE_URL: 'postgres://postgres@localhost:5432/app' }
sidecars:
  db: { image: 'postgres:16', env: { POSTGRES_PASSWORD: pw } }
`;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(config = CONFIG) {
  const state = mkdtempSync(join(tmpdir(), 'matinee-fake-docker-'));
  const env = {
    ...appBaseEnv(process.env),
    PATH: `${FAKE_DOCKER}:${process.env.PATH}`,
    FAKE_DOCKER_STATE: state,
  };
  const events: TaskEvent[] = [];
  const cloud = new ProcessCloud({
    logDir: join(state, 'logs'),
    defaultCwd: state,
    baseEnv: env,
    docker: true,
    stopGraceMs: 2000,
    onTaskEvent: (event) => events.push(event),
  });
  cleanups.push(() => rmSync(state, { recursive: true, force: true }));
  cleanups.push(() => cloud.shutdown());
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
    settings: { stage: 'local', domain: 'localhost', scheme: 'http' as const },
  };
  const containers = () =>
    readdirSync(state)
      .filter((file) => file.endsWith('.json'))
      .map((file) => JSON.parse(readFileSync(join(state, file), 'utf8')));
  return { cloud, deps, events, env, containers };
}

describe('local previews as Docker containers', () => {
  it('runs the sidecars, then the app in their network with its port on loopback, and serves the app', async () => {
    const { cloud, deps, containers } = setup();
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
    const { cloud, deps, containers } = setup();
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
    const { deps, events, containers } = setup(CONFIG.replace("'postgres:16'", "'unpullable:1'"));
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
    const { env } = setup();
    expect(await dockerAvailable(env)).toBe(true);
    expect(await dockerAvailable({ PATH: '/nonexistent' })).toBe(false);
    expect(existsSync(join(FAKE_DOCKER, 'docker'))).toBe(true);
  });
});
