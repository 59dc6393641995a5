import {
  applyCommand,
  environmentId,
  onPullRequest,
  parseCommand,
  reconcile,
  volumeVariable,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { WEB_CONFIG } from '../support/configs.ts';
import { facts, SHA_B } from '../support/environments.ts';
import { FakeVolumes } from '../support/fake-volumes.ts';
import { harness } from '../support/harness.ts';

const ID = environmentId('acme/web', 42);
const FAMILY = 'matinee-test_fix-login-pr42';
const CONFIG = `${WEB_CONFIG}seed: npm run seed\n`.replace(
  '      POSTGRES_PASSWORD: postgres\n',
  '      POSTGRES_PASSWORD: postgres\n    volumes: [{ name: pgdata, path: /var/lib/postgresql/data, uid: 999 }]\n',
);

/** Serving, on volumes that are mounted as an identity of the environment's own (as on AWS) when `identities`. */
async function serving(options: { identities?: boolean } = {}) {
  const h = harness();
  if (options.identities) h.deps.volumes = new FakeVolumes({ identities: true });
  h.source.setConfig('acme/web', CONFIG);
  await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await h.drain();
  h.cloud.startTasks();
  await h.reconcile(ID);
  return h;
}

function currentSpec(h: ReturnType<typeof harness>) {
  const service = [...h.cloud.services.values()][0];
  return [...h.cloud.taskDefinitions.values()].flat().find((r) => r.arn === service?.taskDefinitionArn)?.spec;
}

describe('volumes in reconcile', () => {
  it('makes the volumes before the task that mounts them, and tells the container where they are', async () => {
    const h = await serving();

    expect([...(h.volumes.volumes.get(FAMILY)?.keys() ?? [])]).toEqual(['pgdata']);
    const spec = currentSpec(h);
    expect(spec?.volumes).toEqual([
      {
        name: 'pgdata',
        container: 'db',
        path: '/var/lib/postgresql/data',
        uid: 999,
        gid: 999,
        source: 'fsap-1',
      },
    ]);
    expect(spec?.containers.find((c) => c.name === 'db')?.env[volumeVariable('pgdata')]).toBe(
      '/var/lib/postgresql/data',
    );
    expect((await h.store.get(ID))?.observed.phase).toBe('ready');
  });

  it('keeps them, and their data, while the environment sleeps and wakes', async () => {
    const h = await serving();
    h.volumes.write(FAMILY, 'pgdata', 'PG_VERSION', '16');
    const env = await h.store.get(ID);
    if (!env) throw new Error('no environment');
    await h.store.save({ ...env, desired: { ...env.desired, phase: 'sleeping' } });
    await h.reconcile(ID);

    expect(h.volumes.volumes.get(FAMILY)?.get('pgdata')?.get('PG_VERSION')).toBe('16');
    expect(h.volumes.calls).toEqual(['ensure']);
  });

  it('removes them, data and all, when the pull request closes', async () => {
    const h = await serving();

    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'closed',
      facts: facts({ open: false, updatedAt: '2026-11-02T10:00:00Z' }),
    });
    await h.drain();

    expect(h.volumes.volumes.has(FAMILY)).toBe(false);
    expect(h.cloud.inventory()).toEqual([]);
    expect(h.cloud.calls.indexOf('deleteService')).toBeGreaterThanOrEqual(0);
  });

  it('makes a volume lost outside Matinee again, with a task definition that mounts the new one', async () => {
    const h = await serving();
    const before = currentSpec(h)?.revision;
    h.volumes.lose(FAMILY, 'pgdata');

    await h.reconcile(ID);

    expect(currentSpec(h)?.volumes?.[0]?.source).toBe('fsap-2');
    expect(currentSpec(h)?.revision).not.toBe(before);
  });

  it('fails with a message the author can act on where the deployment has no volumes', async () => {
    const h = harness();
    h.source.setConfig('acme/web', CONFIG);
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    const { volumes: _, ...withoutVolumes } = h.deps;

    const env = await reconcile(withoutVolumes, ID);

    expect(env?.observed.phase).toBe('failed');
    expect(env?.observed.failure?.reason).toMatch(
      /declares `volumes`, which this Matinee deployment cannot provide/,
    );
  });
});

describe('volumes mounted as an identity of the environment’s own', () => {
  const volumes = (h: ReturnType<typeof harness>) => h.deps.volumes as FakeVolumes;

  it('run the task as that identity', async () => {
    const h = await serving({ identities: true });

    expect(currentSpec(h)?.identity).toBe(`role/${FAMILY}`);
    expect((await h.store.get(ID))?.observed.phase).toBe('ready');
  });

  it('make the identity again when it is lost, and roll out a task that runs as it', async () => {
    const h = await serving({ identities: true });
    const calls = volumes(h).calls.length;
    volumes(h).identities.delete(FAMILY);

    await h.reconcile(ID);

    expect(volumes(h).calls.slice(calls)).toContain('ensure');
    expect(volumes(h).identities.has(FAMILY)).toBe(true);
    expect(currentSpec(h)?.identity).toBe(`role/${FAMILY}`);
  });

  it('ensure the volumes before every new revision, so a changed owner gets a volume source of its own, data kept', async () => {
    const h = await serving({ identities: true });
    volumes(h).write(FAMILY, 'pgdata', 'PG_VERSION', '16');
    const before = currentSpec(h)?.volumes?.[0]?.source;
    h.source.setConfig('acme/web', CONFIG.replace('uid: 999', 'uid: 70'));

    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'synchronize',
      facts: facts({ headSha: SHA_B, updatedAt: '2026-11-02T10:00:00Z' }),
    });
    await h.drain();

    const after = currentSpec(h)?.volumes?.[0];
    expect(after).toMatchObject({ uid: 70, gid: 70 });
    expect(after?.source).not.toBe(before);
    expect(volumes(h).volumes.get(FAMILY)?.get('pgdata')?.get('PG_VERSION')).toBe('16');
  });

  it('cost nothing more while nothing changes: a reconcile of a serving environment ensures nothing', async () => {
    const h = await serving({ identities: true });
    const calls = volumes(h).calls.length;

    await h.reconcile(ID);

    expect(volumes(h).calls.slice(calls)).toEqual([]);
  });
});

describe('resetting the data', () => {
  it('is a command for writers that takes no arguments', () => {
    expect(parseCommand('/matinee reset-data')).toEqual({ kind: 'reset-data' });
    expect(parseCommand('/matinee reset-data now')).toMatchObject({ kind: 'help' });
  });

  it('stops the task, empties the volumes, and starts again with the seed', async () => {
    const h = await serving();
    h.volumes.write(FAMILY, 'pgdata', 'PG_VERSION', '16');
    const env = await h.store.get(ID);
    if (!env) throw new Error('no environment');
    const applied = applyCommand(env, { kind: 'reset-data' }, '2026-11-02T10:00:00Z', 'octocat');
    if (!applied.env) throw new Error(applied.reply);
    await h.store.save(applied.env);

    await h.reconcile(ID);

    expect(h.volumes.volumes.get(FAMILY)?.get('pgdata')?.size).toBe(0);
    expect([...h.cloud.services.values()][0]?.desiredCount).toBe(0);
    expect((await h.store.get(ID))?.volumes).toBeUndefined();
    expect(h.bus.requests.at(-1)?.ids).toEqual([ID]);

    await h.drain();
    h.cloud.startTasks();
    const after = await h.reconcile(ID);
    expect(currentSpec(h)?.containers.map((c) => c.name)).toContain('matinee-seed');
    expect(after?.observed.phase).toBe('ready');
    expect(after?.volumes?.seeded?.names).toEqual(['pgdata']);
  });

  it('says there is nothing to reset when the config has no volumes', async () => {
    const h = harness();
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();
    const env = await h.store.get(ID);
    if (!env) throw new Error('no environment');

    const applied = applyCommand(env, { kind: 'reset-data' }, '2026-11-02T10:00:00Z', 'octocat');

    expect(applied.env).toBeUndefined();
    expect(applied.reply).toMatch(/declares no volumes/);
  });
});
