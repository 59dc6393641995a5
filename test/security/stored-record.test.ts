import {
  type Environment,
  environmentId,
  onCommand,
  onPullRequest,
  parseCommand,
  type TaskSpec,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

/**
 * Whoever can write the store must not be able to choose what runs: what a task executes comes from the
 * `.matinee.yml` read from the repository at the commit, and what else comes back from the store is
 * checked again before use. A tampered record may fail its environment, never run something else.
 */
const ID = environmentId('acme/web', 42);
const EVIL = ['sh', '-c', 'touch /tmp/pwned'];

async function serving(h: ReturnType<typeof harness>) {
  await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await h.drain();
  h.cloud.startTasks();
  await h.reconcile(ID);
}

/** Rewrites the stored record as an attacker with write access to the table would. */
async function tamper(h: ReturnType<typeof harness>, change: (env: Environment) => Environment) {
  const env = await h.store.get(ID);
  if (!env) throw new Error('no environment');
  await h.store.save(change(env));
}

/** The stored config with every command an attacker would like run, under the digest they choose. */
function evilConfig(env: Environment, digest = 'fffffffffffffff0'): Environment {
  const config = env.config;
  if (config?.status !== 'ok') throw new Error('config not loaded');
  const { value } = config;
  return {
    ...env,
    config: {
      ...config,
      digest,
      value: {
        ...value,
        app: { ...value.app, image: 'evil.example/miner:latest', command: EVIL },
        sidecars: { db: { image: 'evil.example/db', command: EVIL, env: {} } },
        seed: EVIL,
        local: { command: EVIL },
      },
    },
  };
}

/** Every task definition registered for the environment, newest last. */
function registered(h: ReturnType<typeof harness>): TaskSpec[] {
  return [...h.cloud.taskDefinitions.values()].flat().map((r) => r.spec);
}

function runsNothingOf(spec: TaskSpec | undefined): void {
  expect(spec).toBeDefined();
  const text = JSON.stringify(spec);
  expect(text).not.toContain('evil.example');
  expect(text).not.toContain('/tmp/pwned');
  expect(spec?.containers[0]?.image).toBe(`ghcr.io/acme/web:${facts().headSha}`);
}

describe('a tampered environment record', () => {
  it('cannot choose the command, image, seed or sidecars of the next task: they are read from the repository', async () => {
    const h = harness();
    await serving(h);

    await tamper(h, (env) => evilConfig(env));
    await h.reconcile(ID);

    expect(registered(h)).toHaveLength(1);
    for (const spec of registered(h)) runsNothingOf(spec);
    const stored = await h.store.get(ID);
    expect(stored?.config?.status === 'ok' && stored.config.value.local).toBeUndefined();
  });

  it('cannot ride along on a redeploy with the digest it claims', async () => {
    const h = harness();
    await serving(h);
    const digest = (await h.store.get(ID))?.config;
    await tamper(h, (env) => ({
      ...evilConfig(env, digest?.status === 'ok' ? digest.digest : ''),
      deployNonce: 1,
    }));

    await h.reconcile(ID);

    expect(registered(h)).toHaveLength(2);
    runsNothingOf(registered(h).at(-1));
  });

  it('costs one read of the config per new revision, not one per reconcile', async () => {
    const h = harness();
    await serving(h);
    const reads = h.source.reads;
    await tamper(h, (env) => ({ ...evilConfig(env), deployNonce: 1 }));

    await h.reconcile(ID);
    await h.reconcile(ID);
    await h.reconcile(ID);

    expect(h.source.reads - reads).toBe(1);
  });

  it('runs nothing when the repository no longer has a valid config at the commit', async () => {
    const h = harness();
    await serving(h);
    h.source.setConfig('acme/web', 'app: { image: 12 }');
    await tamper(h, (env) => ({ ...evilConfig(env), deployNonce: 1 }));

    const env = await h.reconcile(ID);

    expect(env?.observed.phase).toBe('skipped');
    expect(JSON.stringify(registered(h))).not.toContain('evil.example');
    expect(h.cloud.services.size).toBe(0);
  });

  it.each([
    ['LD_PRELOAD', '/tmp/evil.so'],
    ['NODE_OPTIONS', '--require /tmp/evil.js'],
    ['PATH', '/tmp/evil-bin'],
    ['BASH_ENV', '/tmp/evil.sh'],
    ['bad name', '/tmp/evil-value'],
  ])('fails its environment, registering nothing, when a stored variable is %s', async (name, value) => {
    const h = harness();
    await serving(h);
    await tamper(h, (env) => ({ ...env, overrides: { [name]: value } }));

    const env = await h.reconcile(ID);

    expect(registered(h)).toHaveLength(1);
    expect(JSON.stringify(registered(h))).not.toContain(value);
    expect(env?.observed).toMatchObject({
      phase: 'failed',
      failure: { reason: expect.stringContaining('refused') },
    });
  });
});

describe('/matinee env', () => {
  it.each([
    'LD_PRELOAD',
    'LD_LIBRARY_PATH',
    'LD_AUDIT',
    'DYLD_INSERT_LIBRARIES',
    'NODE_OPTIONS',
    'BASH_ENV',
    'ENV',
    'PYTHONSTARTUP',
    'PYTHONPATH',
    'PERL5OPT',
    'RUBYOPT',
    'JAVA_TOOL_OPTIONS',
    'PATH',
    'ld_preload',
  ])('refuses to set %s, which makes a runtime load other code, and says why', (name) => {
    expect(parseCommand(`/matinee env ${name}=/tmp/x`)).toEqual({
      kind: 'help',
      problem: expect.stringContaining(`${name} cannot be set`),
    });
  });

  it('still sets an ordinary variable', () => {
    expect(parseCommand('/matinee env FEATURE_X=on')).toEqual({
      kind: 'env-set',
      key: 'FEATURE_X',
      value: 'on',
    });
  });

  it('changes nothing when refused', async () => {
    const h = harness();
    await serving(h);
    h.source.permissions.set('acme/web maintainer', 'maintain');
    const before = await h.store.get(ID);

    const outcome = await onCommand(h.deps, {
      repo: 'acme/web',
      number: 42,
      commentId: 7,
      user: 'maintainer',
      body: '/matinee env LD_PRELOAD=/tmp/evil.so',
    });

    expect(outcome).toMatchObject({ reply: expect.stringContaining('LD_PRELOAD cannot be set') });
    expect((await h.store.get(ID))?.overrides).toEqual(before?.overrides);
  });
});
