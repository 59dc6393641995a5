import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoEnvironmentStore } from '@matinee/aws';
import { ConflictError, type Environment, environmentId, MatineeError, slugCandidates } from '@matinee/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { localTable } from '../support/dynamo.ts';
import { anEnvironment } from '../support/environments.ts';

let table: Awaited<ReturnType<typeof localTable>>;
beforeAll(async () => {
  table = await localTable();
});

let now = new Date('2026-11-02T09:00:00Z');
const store = () =>
  new DynamoEnvironmentStore({ client: table.client, tableName: table.tableName, clock: () => now });
let serial = 0;
/** A new pull request number per test, so tests share the table without sharing environments. */
function fresh(overrides: Parameters<typeof anEnvironment>[0] = {}) {
  const number = 1000 + ++serial;
  const draft = anEnvironment({ id: environmentId(overrides.repo ?? 'acme/web', number), ...overrides });
  return { draft, slugs: slugCandidates(draft.id, `branch-${number}`, number) };
}

describe('the DynamoDB store', () => {
  it('reads back a created environment by id and by host, exactly as written', async () => {
    const { draft, slugs } = fresh();
    const created = await store().create(draft, slugs, 'preview.example.com');
    expect(created).toMatchObject({ version: 1, slug: slugs[0], host: `${slugs[0]}.preview.example.com` });
    expect(await store().get(draft.id)).toEqual(created);
    expect(await store().getByHost(created.host)).toEqual(created);
  });

  it('refuses to create an environment twice and leaves the first as it was', async () => {
    const { draft, slugs } = fresh();
    const first = await store().create(draft, slugs, 'preview.example.com');
    await expect(
      store().create({ ...draft, wakes: [{ startedAt: 'x' }] }, slugs, 'preview.example.com'),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await store().get(draft.id)).toEqual(first);
  });

  it('gives a second environment wanting the same host the next candidate', async () => {
    const a = fresh();
    const b = fresh({ repo: 'acme/api' });
    await store().create(a.draft, a.slugs, 'preview.example.com');
    const second = await store().create(b.draft, [a.slugs[0] as string, 'other-slug'], 'preview.example.com');
    expect(second.host).toBe('other-slug.preview.example.com');
  });

  it('finishes a create that crashed after claiming its host', async () => {
    const { draft, slugs } = fresh();
    await table.client.send(
      new PutCommand({
        TableName: table.tableName,
        Item: { pk: `HOST#${slugs[0]}.preview.example.com`, sk: 'HOST', kind: 'host', envId: draft.id },
      }),
    );
    const created = await store().create(draft, slugs, 'preview.example.com');
    expect(created.slug).toBe(slugs[0]);
  });

  it('fails with a clear error when every host is taken', async () => {
    const a = fresh();
    const b = fresh();
    await store().create(a.draft, a.slugs, 'preview.example.com');
    await expect(store().create(b.draft, [a.slugs[0] as string], 'preview.example.com')).rejects.toThrow(
      MatineeError,
    );
    expect(await store().get(b.draft.id)).toBeUndefined();
  });

  it('rejects a save from a stale read and keeps the stored item unchanged', async () => {
    const { draft, slugs } = fresh();
    const created = await store().create(draft, slugs, 'preview.example.com');
    const saved = await store().save({ ...created, lastRequestAt: '2026-11-02T09:01:00.000Z' });
    expect(saved.version).toBe(2);
    await expect(store().save({ ...created, lastRequestAt: 'stale' })).rejects.toBeInstanceOf(ConflictError);
    expect(await store().get(draft.id)).toEqual(saved);
  });

  it('applies every one of 20 racing read-modify-write updates exactly once', async () => {
    const { draft, slugs } = fresh();
    await store().create(draft, slugs, 'preview.example.com');
    const bump = async (n: number) => {
      for (;;) {
        const current = (await store().get(draft.id)) as Environment;
        try {
          await store().save({ ...current, wakes: [...current.wakes, { startedAt: `writer-${n}` }] });
          return;
        } catch (error) {
          if (!(error instanceof ConflictError)) throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, n) => bump(n)));
    const final = await store().get(draft.id);
    expect(final?.version).toBe(21);
    expect(final?.wakes.map((w) => w.startedAt).sort()).toEqual(
      Array.from({ length: 20 }, (_, n) => `writer-${n}`).sort(),
    );
  });

  it('lists as awake only environments wanted running, and drops one when it goes to sleep', async () => {
    const own = fresh({ repo: 'awake/only' });
    const env = await store().create(own.draft, own.slugs, 'preview.example.com');
    const other = fresh({ repo: 'awake/only' });
    await store().create(
      { ...other.draft, desired: { ...other.draft.desired, phase: 'sleeping' } },
      other.slugs,
      'preview.example.com',
    );
    const awakeIds = async () =>
      (await store().listAwake()).map((e) => e.id).filter((id) => id.startsWith('awake/only'));
    expect(await awakeIds()).toEqual([env.id]);

    await store().save({ ...env, desired: { ...env.desired, phase: 'sleeping' } });
    expect(await awakeIds()).toEqual([]);
  });

  it('lists a repository’s environments and no one else’s', async () => {
    const a = fresh({ repo: 'solo/repo' });
    const b = fresh({ repo: 'solo/repo' });
    const c = fresh({ repo: 'solo/other' });
    for (const x of [a, b, c]) await store().create(x.draft, x.slugs, 'preview.example.com');
    expect((await store().listByRepo('solo/repo')).map((e) => e.id).sort()).toEqual(
      [a.draft.id, b.draft.id].sort(),
    );
    expect((await store().listAll()).map((e) => e.id)).toEqual(
      expect.arrayContaining([a.draft.id, b.draft.id, c.draft.id]),
    );
  });

  it('remembers a webhook delivery until released, or until its time to live passes', async () => {
    const s = store();
    expect(await s.claimDelivery('delivery-1', 60)).toBe(true);
    expect(await s.claimDelivery('delivery-1', 60)).toBe(false);
    await s.releaseDelivery('delivery-1');
    expect(await s.claimDelivery('delivery-1', 60)).toBe(true);
    now = new Date(now.getTime() + 61_000);
    expect(await s.claimDelivery('delivery-1', 60)).toBe(true);
  });

  it('sets a time to live on a deleted environment and its host, freeing the host afterwards', async () => {
    const { draft, slugs } = fresh();
    const env = await store().create(draft, slugs, 'preview.example.com');
    await store().save({ ...env, expiresAt: new Date(now.getTime() + 1000).toISOString() });
    const later = fresh({ repo: 'acme/api' });
    now = new Date(now.getTime() + 2000);
    const reused = await store().create(later.draft, [slugs[0] as string], 'preview.example.com');
    expect(reused.host).toBe(env.host);
  });
});
