import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoRateLimiter } from '@matinee/aws';
import { beforeAll, describe, expect, it } from 'vitest';
import { localTable } from '../support/dynamo.ts';

let table: Awaited<ReturnType<typeof localTable>>;
beforeAll(async () => {
  table = await localTable();
});

/**
 * A window start a day ahead: DynamoDB Local really deletes items whose `ttl` has passed, so the counters
 * must live in the future to stay put while a test reads them.
 */
const WINDOW_START = (Math.ceil(Date.now() / 600_000) + 144) * 600;
const at = (secondsIntoWindow: number) => new Date((WINDOW_START + secondsIntoWindow) * 1000);

/** A limiter whose clock the test sets: windows are fixed, so the instant decides which window counts. */
function limiter(now = at(0)) {
  const clock = { now };
  const limits = new DynamoRateLimiter({
    client: table.client,
    tableName: table.tableName,
    clock: () => clock.now,
  });
  return { limits, clock };
}

let serial = 0;
const freshKey = () => `test key ${++serial}`;

describe('the DynamoDB rate limiter', () => {
  it('admits `limit` events in a window, then refuses until the window ends', async () => {
    const { limits } = limiter(at(150));
    const key = freshKey();

    const taken = [];
    for (const event of ['a', 'b', 'c', 'd']) taken.push(await limits.take(key, event, 3, 600));

    expect(taken.map((t) => t.allowed)).toEqual([true, true, true, false]);
    // 150 s into a 10-minute window.
    expect(taken[3]?.retryAfterSeconds).toBe(450);
  });

  it('counts an event once, however often it is taken: a burst, or a retried call', async () => {
    const { limits } = limiter();
    const key = freshKey();

    for (let i = 0; i < 5; i++) expect((await limits.take(key, 'same', 2, 600)).allowed).toBe(true);
    expect((await limits.take(key, 'other', 2, 600)).allowed).toBe(true);
    expect((await limits.take(key, 'third', 2, 600)).allowed).toBe(false);
    // Already counted: still admitted when the limit is reached.
    expect((await limits.take(key, 'same', 2, 600)).allowed).toBe(true);
  });

  it('never admits more than the limit to concurrent takes', async () => {
    const { limits } = limiter();
    const key = freshKey();

    const taken = await Promise.all(
      Array.from({ length: 25 }, (_, i) => limits.take(key, `event-${i}`, 5, 600)),
    );

    expect(taken.filter((t) => t.allowed)).toHaveLength(5);
  });

  it('starts again in the next window, and keeps keys apart', async () => {
    const { limits, clock } = limiter(at(599));
    const key = freshKey();
    expect((await limits.take(key, 'a', 1, 600)).allowed).toBe(true);
    expect((await limits.take(key, 'b', 1, 600)).allowed).toBe(false);
    expect((await limits.take(freshKey(), 'b', 1, 600)).allowed).toBe(true);

    clock.now = at(600);

    expect((await limits.take(key, 'b', 1, 600)).allowed).toBe(true);
  });

  it('writes one item per key and window that expires by TTL after its window', async () => {
    const { limits } = limiter(at(180));
    const key = freshKey();
    await limits.take(key, 'a', 3, 600);
    await limits.take(key, 'b', 3, 600);

    const start = WINDOW_START;
    const { Item } = await table.client.send(
      new GetCommand({
        TableName: table.tableName,
        Key: { pk: `LIMIT#${key}`, sk: `WINDOW#600#${start}` },
        ConsistentRead: true,
      }),
    );

    expect(Item).toMatchObject({ kind: 'limit', events: new Set(['a', 'b']) });
    expect(Item?.ttl).toBeGreaterThan(start + 600);
    expect(Item?.ttl).toBeLessThanOrEqual(start + 600 + 120);
  });
});
