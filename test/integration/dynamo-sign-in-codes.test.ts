import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoSignInCodes } from '@matinee/aws';
import { newNonce } from '@matinee/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { localTable } from '../support/dynamo.ts';

let table: Awaited<ReturnType<typeof localTable>>;
let codes: DynamoSignInCodes;
beforeAll(async () => {
  table = await localTable();
  codes = new DynamoSignInCodes({ client: table.client, tableName: table.tableName });
});

/** Instants a day ahead: DynamoDB Local really deletes items whose `ttl` has passed. */
const BASE = Date.now() + 24 * 3600_000;
const at = (seconds: number) => new Date(BASE + seconds * 1000);
const GRANT = { host: 'fix-login-pr42.preview.example.com', path: '/cart?x=1' };

describe('one-time sign-in codes in DynamoDB', () => {
  it('gives the grant to the first use only', async () => {
    const code = newNonce();
    await codes.issue(code, GRANT, at(60));

    const first = await codes.consume(code, at(10));
    const second = await codes.consume(code, at(11));

    expect(first).toEqual(GRANT);
    expect(second).toBeUndefined();
  });

  it('gives it to exactly one of two uses at the same instant', async () => {
    const code = newNonce();
    await codes.issue(code, GRANT, at(60));

    const uses = await Promise.all([codes.consume(code, at(5)), codes.consume(code, at(5))]);

    expect(uses.filter(Boolean)).toEqual([GRANT]);
  });

  it('refuses an expired code that is still in the table', async () => {
    const code = newNonce();
    await codes.issue(code, GRANT, at(60));

    expect(await codes.consume(code, at(60))).toBeUndefined();
    expect(await codes.consume(code, at(61))).toBeUndefined();
  });

  it('refuses an unknown code', async () => {
    expect(await codes.consume(newNonce(), at(0))).toBeUndefined();
  });

  it('never stores the code itself', async () => {
    const code = newNonce();
    await codes.issue(code, GRANT, at(60));

    const stored = await table.client.send(
      new GetCommand({ TableName: table.tableName, Key: { pk: `SIGNIN#${code}`, sk: 'SIGNIN' } }),
    );

    expect(stored.Item).toBeUndefined();
  });

  it('grants nothing from a stored record of the wrong shape (and deletes it all the same)', async () => {
    const code = newNonce();
    await codes.issue(code, GRANT, at(60));
    const { createHash } = await import('node:crypto');
    const pk = `SIGNIN#${createHash('sha256').update(code).digest('hex')}`;
    await table.client.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          pk,
          sk: 'SIGNIN',
          kind: 'sign-in',
          host: GRANT.host,
          path: 'https://evil.example/',
          ttl: 2e9,
        },
      }),
    );

    expect(await codes.consume(code, at(1))).toBeUndefined();
  });
});
