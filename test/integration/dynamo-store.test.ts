import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoEnvironmentStore } from '@matinee/aws';
import {
  ConflictError,
  type Environment,
  environmentId,
  loadConfig,
  MatineeError,
  slugCandidates,
} from '@matinee/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { WEB_CONFIG } from '../support/configs.ts';
import { localTable } from '../support/dynamo.ts';
import { anEnvironment, SHA_A } from '../support/environments.ts';

const DOMAIN = 'preview.example.com';

let table: Awaited<ReturnType<typeof localTable>>;
beforeAll(async () => {
  table = await localTable();
});

/**
 * A store whose clock the test moves. It starts at the real time: DynamoDB Local really deletes items
 * whose `ttl` has passed (within a second or so), so expiry is simulated by moving this clock forward.
 */
function storeWithClock() {
  const clock = { now: new Date() };
  const store = new DynamoEnvironmentStore({
    client: table.client,
    tableName: table.tableName,
    clock: () => clock.now,
  });
  const advance = (ms: number) => {
    clock.now = new Date(clock.now.getTime() + ms);
  };
  return { store, clock, advance };
}
const store = () => storeWithClock().store;

let serial = 0;
/** A new pull request number per test, so tests share the table without sharing environments. */
function fresh(overrides: Parameters<typeof anEnvironment>[0] = {}) {
  const number = 1000 + ++serial;
  const draft = anEnvironment({ id: environmentId(overrides.repo ?? 'acme/web', number), ...overrides });
  return { draft, slugs: slugCandidates(draft.id, `branch-${number}`, number, 'preview.example.com') };
}

async function rawItem(key: { pk: string; sk: string }) {
  const { Item } = await table.client.send(
    new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }),
  );
  return Item;
}

describe('the DynamoDB environment store', () => {
  it('reads back a created environment by id and by host, exactly as written', async () => {
    const { draft, slugs } = fresh();

    const created = await store().create(draft, slugs, DOMAIN);

    expect(created).toEqual({ ...draft, version: 1, slug: slugs[0], host: `${slugs[0]}.${DOMAIN}` });
    expect(await store().get(draft.id)).toEqual(created);
    expect(await store().getByHost(created.host)).toEqual(created);
  });

  it('keeps every field of a fully populated environment through a save', async () => {
    const { draft, slugs } = fresh();
    const created = await store().create(draft, slugs, DOMAIN);
    const config = loadConfig(SHA_A, WEB_CONFIG);
    const full: Environment = {
      ...created,
      pr: { ...created.pr, labels: ['preview'], labeledBy: { preview: 'octocat' } },
      desired: { ...created.desired, configDigest: 'digest-1' },
      config,
      policy: config,
      observed: {
        phase: 'ready',
        sha: SHA_A,
        configDigest: 'digest-1',
        resources: {
          serviceArn: 'arn:service',
          taskDefinitionArn: 'arn:td:3',
          ruleArn: '',
          targetGroupArn: 'tg',
        },
        reason: 'why',
        lastError: 'throttled',
        failure: { sha: SHA_A, reason: 'image missing', at: '2026-11-02T09:01:00.000Z' },
        crashes: { sha: SHA_A, count: 2 },
        since: '2026-11-02T09:02:00.000Z',
      },
      lastRequestAt: '2026-11-02T09:03:00.000Z',
      awakeSeconds: 12.5,
      wakes: [{ startedAt: '2026-11-02T09:00:00.000Z', readyAt: '2026-11-02T09:00:40.000Z' }],
      builds: { [`${SHA_A} build`]: { conclusion: 'success', url: 'https://example.com/run/1' } },
      overrides: { DEBUG: '1', EMPTY: '' },
      keepAwakeUntil: '2026-11-03T09:00:00.000Z',
      deployNonce: 3,
      forkApproval: { user: 'octocat', allowed: false },
      reported: 'ready abc',
      lastCommand: {
        user: 'octocat',
        text: '/matinee wake',
        reply: 'waking',
        at: '2026-11-02T09:04:00.000Z',
      },
    };

    const saved = await store().save(full);

    expect(saved).toEqual({ ...full, version: 2 });
    expect(await store().get(draft.id)).toStrictEqual(saved);
  });

  it('drops fields saved as undefined instead of failing or storing them', async () => {
    const { draft, slugs } = fresh({ lastRequestAt: '2026-11-02T09:03:00.000Z' });
    const created = await store().create(draft, slugs, DOMAIN);

    await store().save({
      ...created,
      lastRequestAt: undefined,
      observed: { ...created.observed, sha: undefined },
    });

    const read = await store().get(draft.id);
    expect(read && 'lastRequestAt' in read).toBe(false);
    expect(read && 'sha' in read.observed).toBe(false);
  });

  it('refuses to create an environment twice and leaves the first as it was', async () => {
    const { draft, slugs } = fresh();
    const first = await store().create(draft, slugs, DOMAIN);

    const second = store().create({ ...draft, wakes: [{ startedAt: 'x' }] }, slugs, DOMAIN);

    await expect(second).rejects.toBeInstanceOf(ConflictError);
    expect(await store().get(draft.id)).toEqual(first);
  });

  it('gives a second environment wanting a taken host its next candidate', async () => {
    const a = fresh();
    const b = fresh({ repo: 'acme/api' });
    const first = await store().create(a.draft, a.slugs, DOMAIN);

    const second = await store().create(b.draft, [first.slug, 'other-slug'], DOMAIN);

    expect(second.slug).toBe('other-slug');
    expect(second.host).toBe(`other-slug.${DOMAIN}`);
    expect(await store().getByHost(first.host)).toEqual(first);
  });

  it('finishes a create that crashed after claiming its host', async () => {
    const { draft, slugs } = fresh();
    const host = `${slugs[0]}.${DOMAIN}`;
    await table.client.send(
      new PutCommand({
        TableName: table.tableName,
        Item: { pk: `HOST#${host}`, sk: 'HOST', envId: draft.id },
      }),
    );

    const created = await store().create(draft, slugs, DOMAIN);

    expect(created.host).toBe(host);
    expect(await store().getByHost(host)).toEqual(created);
  });

  it('fails with an error naming the hosts when every candidate is taken', async () => {
    const a = fresh();
    const b = fresh();
    const first = await store().create(a.draft, a.slugs, DOMAIN);

    const second = store().create(b.draft, [first.slug], DOMAIN);

    await expect(second).rejects.toThrow(MatineeError);
    await expect(second).rejects.toThrow(first.host);
    expect(await store().get(b.draft.id)).toBeUndefined();
  });

  it('finds nothing by a host whose claim never became that environment’s host', async () => {
    const { draft, slugs } = fresh();
    const created = await store().create(draft, slugs, DOMAIN);
    const orphan = `orphan-${serial}.${DOMAIN}`;
    await table.client.send(
      new PutCommand({
        TableName: table.tableName,
        Item: { pk: `HOST#${orphan}`, sk: 'HOST', envId: created.id },
      }),
    );

    expect(await store().getByHost(orphan)).toBeUndefined();
  });

  it('rejects a save from a stale read and keeps the stored item unchanged', async () => {
    const { draft, slugs } = fresh();
    const created = await store().create(draft, slugs, DOMAIN);
    const saved = await store().save({ ...created, lastRequestAt: '2026-11-02T09:01:00.000Z' });

    const stale = store().save({ ...created, lastRequestAt: '2026-11-02T09:09:00.000Z' });

    await expect(stale).rejects.toBeInstanceOf(ConflictError);
    expect(saved.version).toBe(2);
    expect(await store().get(draft.id)).toEqual(saved);
  });

  it('treats saving an environment that was never created as a conflict', async () => {
    const { draft, slugs } = fresh();

    const save = store().save({
      ...draft,
      slug: slugs[0] as string,
      host: `${slugs[0]}.${DOMAIN}`,
      version: 1,
    });

    await expect(save).rejects.toBeInstanceOf(ConflictError);
    expect(await store().get(draft.id)).toBeUndefined();
  });

  it('applies every one of 20 racing read-modify-write updates exactly once', async () => {
    const { draft, slugs } = fresh();
    await store().create(draft, slugs, DOMAIN);
    const writer = async (n: number) => {
      for (;;) {
        const current = (await store().get(draft.id)) as Environment;
        try {
          return await store().save({ ...current, wakes: [...current.wakes, { startedAt: `writer-${n}` }] });
        } catch (error) {
          if (!(error instanceof ConflictError)) throw error;
        }
      }
    };

    await Promise.all(Array.from({ length: 20 }, (_, n) => writer(n)));

    const final = await store().get(draft.id);
    expect(final?.version).toBe(21);
    expect(final?.wakes.map((w) => w.startedAt).sort()).toEqual(
      Array.from({ length: 20 }, (_, n) => `writer-${n}`).sort(),
    );
  });

  it('lists as awake only environments whose desired phase is running', async () => {
    const awake = fresh({ repo: 'awake/listed' });
    const asleep = fresh({ repo: 'awake/listed' });
    const running = await store().create(awake.draft, awake.slugs, DOMAIN);
    await store().create(
      { ...asleep.draft, desired: { ...asleep.draft.desired, phase: 'sleeping' } },
      asleep.slugs,
      DOMAIN,
    );

    const listed = (await store().listAwake()).filter((e) => e.repo === 'awake/listed');

    expect(listed).toEqual([running]);
  });

  it('drops an environment from the awake list when it goes to sleep', async () => {
    const { draft, slugs } = fresh({ repo: 'awake/dropped' });
    const env = await store().create(draft, slugs, DOMAIN);

    await store().save({ ...env, desired: { ...env.desired, phase: 'sleeping' } });

    expect((await store().listAwake()).filter((e) => e.repo === 'awake/dropped')).toEqual([]);
  });

  const ARNS = {
    serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/matinee/web',
    targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/mt-web/1',
  };
  const WAITING = 'waiting for workflow build to build aaaaaaa';
  const seen = (observed: Omit<Environment['observed'], 'since'>) => ({
    ...observed,
    since: anEnvironment().createdAt,
  });
  const failedAt = (sha: string) => ({ sha, reason: 'stopped 3 times', at: anEnvironment().createdAt });

  // Each wants `running`. What reconcile gives them decides whether they hold a task or a target group.
  it.each([
    [
      'skipped by policy (reconcile removed everything)',
      seen({ phase: 'skipped', reason: 'a draft', resources: {} }),
    ],
    [
      'failed at its commit (scaled to zero, no rule)',
      seen({ phase: 'failed', failure: failedAt(SHA_A), resources: ARNS }),
    ],
    ['waiting for the image of its first commit', seen({ phase: 'pending', reason: WAITING, resources: {} })],
  ])('leaves out of the awake index an environment %s', async (_, observed) => {
    const { draft, slugs } = fresh({ repo: 'awake/idle', observed });
    await store().create(draft, slugs, DOMAIN);

    const listed = (await store().listAwake()).some((e) => e.id === draft.id);

    expect(listed).toBe(false);
  });

  it.each([
    ['starting', seen({ phase: 'starting', resources: ARNS })],
    ['about to be reconciled for the first time', seen({ phase: 'pending', resources: {} })],
    [
      'waiting for a new image while the last commit runs',
      seen({ phase: 'pending', reason: WAITING, resources: ARNS }),
    ],
    [
      'whose failure was of an older commit',
      seen({ phase: 'failed', failure: failedAt('f'.repeat(40)), resources: ARNS }),
    ],
  ])('keeps in the awake index an environment %s', async (_, observed) => {
    const { draft, slugs } = fresh({ repo: 'awake/holding', observed });
    await store().create(draft, slugs, DOMAIN);

    const listed = (await store().listAwake()).some((e) => e.id === draft.id);

    expect(listed).toBe(true);
  });

  it('takes an environment out of the awake index when reconcile finds it skipped', async () => {
    const { draft, slugs } = fresh({ repo: 'awake/skipped' });
    const env = await store().create(draft, slugs, DOMAIN);

    await store().save({ ...env, observed: { ...env.observed, phase: 'skipped', reason: 'a draft' } });

    expect((await store().listAwake()).filter((e) => e.repo === 'awake/skipped')).toEqual([]);
  });

  it('lists a repository’s environments and no one else’s', async () => {
    const a = fresh({ repo: 'solo/repo' });
    const b = fresh({ repo: 'solo/repo' });
    const c = fresh({ repo: 'solo/other' });
    for (const x of [a, b, c]) await store().create(x.draft, x.slugs, DOMAIN);

    const listed = await store().listByRepo('solo/repo');

    expect(listed.map((e) => e.id).sort()).toEqual([a.draft.id, b.draft.id].sort());
  });

  it('lists every environment, and only environments, across pages', async () => {
    const many = Array.from({ length: 30 }, () => fresh({ repo: 'all/many' }));
    // Large items make DynamoDB Local page the Scan (1 MB per page) and the Query.
    const padding = 'x'.repeat(60_000);
    for (const x of many) await store().create({ ...x.draft, reported: padding }, x.slugs, DOMAIN);

    const all = await store().listAll();
    const byRepo = await store().listByRepo('all/many');

    expect(all.map((e) => e.id)).toEqual(expect.arrayContaining(many.map((x) => x.draft.id)));
    expect(all.every((e) => typeof e.id === 'string' && e.version >= 1)).toBe(true);
    expect(byRepo).toHaveLength(30);
  });

  it('claims a webhook delivery once', async () => {
    const { store } = storeWithClock();

    expect(await store.claimDelivery('delivery-once', 60)).toBe(true);
    expect(await store.claimDelivery('delivery-once', 60)).toBe(false);
  });

  it('claims a released webhook delivery again', async () => {
    const { store } = storeWithClock();
    await store.claimDelivery('delivery-released', 60);

    await store.releaseDelivery('delivery-released');

    expect(await store.claimDelivery('delivery-released', 60)).toBe(true);
  });

  it('claims a webhook delivery again once the previous claim’s time to live has passed', async () => {
    const { store, advance } = storeWithClock();
    await store.claimDelivery('delivery-expired', 60);

    advance(61_000);

    expect(await store.claimDelivery('delivery-expired', 60)).toBe(true);
  });

  it('sets the time to live of a deleted environment’s tombstone and of its host', async () => {
    const { draft, slugs } = fresh();
    const env = await store().create(draft, slugs, DOMAIN);
    const expiresAt = new Date(Date.now() + 86_400_000);

    await store().save({ ...env, expiresAt: expiresAt.toISOString() });

    const seconds = Math.floor(expiresAt.getTime() / 1000);
    expect(
      (await rawItem({ pk: 'ENV#acme/web', sk: `PR#${String(env.number).padStart(10, '0')}` }))?.ttl,
    ).toBe(seconds);
    expect((await rawItem({ pk: `HOST#${env.host}`, sk: 'HOST' }))?.ttl).toBe(seconds);
  });

  it('lets another environment take the host of an expired tombstone', async () => {
    const { store, advance } = storeWithClock();
    const { draft, slugs } = fresh();
    const env = await store.create(draft, slugs, DOMAIN);
    await store.save({ ...env, expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    const later = fresh({ repo: 'acme/api' });

    advance(2 * 3_600_000);
    const taker = await store.create(later.draft, [env.slug], DOMAIN);

    expect(taker.host).toBe(env.host);
    expect(await store.getByHost(env.host)).toEqual(taker);
  });

  it('keeps the host of an environment brought back from deletion', async () => {
    const { draft, slugs } = fresh();
    const env = await store().create(draft, slugs, DOMAIN);
    const tombstone = await store().save({
      ...env,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });

    await store().save({ ...tombstone, expiresAt: undefined });

    expect((await rawItem({ pk: `HOST#${env.host}`, sk: 'HOST' }))?.ttl).toBeUndefined();
  });

  it('reports a failing DynamoDB call as a MatineeError that keeps the cause', async () => {
    const missing = new DynamoEnvironmentStore({ client: table.client, tableName: 'matinee-no-such-table' });

    const error = await missing.get(environmentId('acme/web', 1)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MatineeError);
    expect((error as MatineeError).cause).toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
