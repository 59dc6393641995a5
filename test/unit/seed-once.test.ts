import { environmentId, onPullRequest, parseConfig, seedDue } from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { WEB_CONFIG } from '../support/configs.ts';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

const ID = environmentId('acme/web', 42);

const WITH_VOLUME = `${WEB_CONFIG}seed: npm run seed\n`.replace(
  '      POSTGRES_PASSWORD: postgres\n',
  '      POSTGRES_PASSWORD: postgres\n    volumes: [{ name: pgdata, path: /var/lib/postgresql/data, uid: 999 }]\n',
);
const WITHOUT_VOLUME = `${WEB_CONFIG}seed: npm run seed\n`;

function setup(config: string) {
  const h = harness();
  h.source.setConfig('acme/web', config);
  return h;
}

async function serving(h: ReturnType<typeof harness>) {
  await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await h.drain();
  h.cloud.startTasks();
  return h.reconcile(ID);
}

async function want(h: ReturnType<typeof harness>, phase: 'running' | 'sleeping') {
  const env = await h.store.get(ID);
  if (!env) throw new Error('no environment');
  await h.store.save({ ...env, desired: { ...env.desired, phase } });
  await h.reconcile(ID);
  h.cloud.startTasks();
  return h.reconcile(ID);
}

/** The containers of the task definition the service runs now. */
function runningContainers(h: ReturnType<typeof harness>): string[] {
  const service = [...h.cloud.services.values()][0];
  const revisions = [...h.cloud.taskDefinitions.values()].flat();
  const current = revisions.find((r) => r.arn === service?.taskDefinitionArn);
  return current?.spec.containers.map((c) => c.name) ?? [];
}

describe('the seed, with volumes', () => {
  it('runs in the first task, and is recorded once that task serves', async () => {
    const h = setup(WITH_VOLUME);

    const env = await serving(h);

    expect(env?.observed.phase).toBe('ready');
    expect(runningContainers(h)).toEqual(['app', 'db', 'matinee-seed']);
    expect(env?.volumes?.seeded).toEqual({ names: ['pgdata'], at: h.clock.now().toISOString() });
  });

  it('leaves the task that seeded running: no redeploy only to drop the seed', async () => {
    const h = setup(WITH_VOLUME);
    await serving(h);
    const calls = h.cloud.calls.length;

    const env = await h.reconcile(ID);

    expect(h.cloud.calls.slice(calls).filter((c) => c !== 'describe')).toEqual([]);
    expect(env?.observed.phase).toBe('ready');
  });

  it('does not seed again when the environment wakes', async () => {
    const h = setup(WITH_VOLUME);
    await serving(h);
    await want(h, 'sleeping');

    const env = await want(h, 'running');

    expect(env?.observed.phase).toBe('ready');
    expect(runningContainers(h)).toEqual(['app', 'db']);
  });

  it('does not seed again for a push', async () => {
    const h = setup(WITH_VOLUME);
    await serving(h);

    await onPullRequest(h.deps, {
      repo: 'acme/web',
      number: 42,
      action: 'synchronize',
      facts: facts({ headSha: 'b'.repeat(40), updatedAt: '2026-11-02T10:00:00Z' }),
    });
    await h.drain();

    expect(runningContainers(h)).toEqual(['app', 'db']);
  });

  it('is not recorded while the first task is still starting, so a wake then still seeds', async () => {
    const h = setup(WITH_VOLUME);
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await h.drain();
    expect((await h.store.get(ID))?.volumes).toBeUndefined();

    await want(h, 'sleeping');
    const env = await want(h, 'running');

    expect(runningContainers(h)).toContain('matinee-seed');
    expect(env?.volumes?.seeded?.names).toEqual(['pgdata']);
  });
});

describe('the seed, without volumes', () => {
  it('runs at every start, the wake included, and nothing is recorded', async () => {
    const h = setup(WITHOUT_VOLUME);
    await serving(h);
    await want(h, 'sleeping');

    const env = await want(h, 'running');

    expect(runningContainers(h)).toEqual(['app', 'db', 'matinee-seed']);
    expect(env?.volumes).toBeUndefined();
  });
});

describe('seedDue', () => {
  const config = (text: string) => {
    const parsed = parseConfig(text);
    if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
    return parsed.value;
  };
  const two = config(
    'app: { image: a, port: 1, volumes: [{ name: files, path: /files }] }\nsidecars: { db: { image: d, volumes: [{ name: pg, path: /pg }] } }',
  );

  it('is due for a volume the seed has not run on, such as one added by a push', () => {
    expect(seedDue({ volumes: { seeded: { names: ['pg'], at: 'x' } } }, two)).toBe(true);
    expect(seedDue({ volumes: { seeded: { names: ['files', 'pg'], at: 'x' } } }, two)).toBe(false);
  });

  it('is always due without volumes', () => {
    expect(
      seedDue({ volumes: { seeded: { names: ['pg'], at: 'x' } } }, config('app: { image: a, port: 1 }')),
    ).toBe(true);
  });
});
