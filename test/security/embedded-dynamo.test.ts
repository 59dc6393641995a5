import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { environmentId } from '@matinee/core';
import { guardRequests, runCredentials, startEmbeddedDynamo } from '@matinee/local';
import dynalite from 'dynalite';
import { afterEach, describe, expect, it } from 'vitest';
import { anEnvironment } from '../support/environments.ts';
import { tcpListenPorts } from '../support/listeners.ts';
import { sendRaw, signDynamoRequest } from '../support/signed-dynamo.ts';
import { until } from '../support/until.ts';

/**
 * Local mode's database must answer Matinee and nobody else: not a web page (which could rewrite an
 * environment's command and have it run), not another process of this user with a key of its own.
 */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'matinee-sec-db-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function embedded() {
  const before = tcpListenPorts();
  const dir = join(tempDir(), 'db');
  const db = await startEmbeddedDynamo(dir);
  cleanups.push(() => db.close());
  const opened = tcpListenPorts().filter((port) => !before.includes(port));
  return { db, dir, opened };
}

const TABLE = { TableName: 'matinee-local' };
const EVIL_ITEM = {
  ...TABLE,
  Item: { pk: { S: 'ENV#evil/evil' }, sk: { S: 'PR#0000000001' }, env: { M: {} } },
};

describe('the embedded database of local mode', () => {
  it('listens on no TCP port, only on a Unix socket that only this user can open', async () => {
    const { db, dir, opened } = await embedded();

    expect(opened).toEqual([]);
    expect(statSync(db.socketPath).isSocket()).toBe(true);
    expect(statSync(db.socketPath).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('still serves Matinee its environments', async () => {
    const { db } = await embedded();
    const created = await db.store.create(
      anEnvironment({ id: environmentId('acme/shop', 3) }),
      ['checkout-pr3'],
      'localhost',
    );

    expect((await db.store.get(created.id))?.host).toBe('checkout-pr3.localhost');
  });

  it('refuses a request signed with any key but the one of this run, and writes nothing', async () => {
    const { db } = await embedded();

    const other = await signDynamoRequest(runCredentials(), 'PutItem', EVIL_ITEM);
    const answer = await sendRaw(db.socketPath, other);

    expect(answer.status).toBe(403);
    expect(await db.store.listAll()).toEqual([]);
  });

  it('refuses an unsigned request', async () => {
    const { db } = await embedded();

    const answer = await sendRaw(db.socketPath, {
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Scan' },
      body: JSON.stringify(TABLE),
    });

    expect(answer.status).toBe(403);
    expect(answer.body).not.toContain('Items');
  });
});

/**
 * The guard itself, in front of an in-memory dynalite, with a key the test knows: a request signed with it
 * is served, and the same request is refused once it comes from a web page or anything signed was changed.
 */
describe('the signature guard in front of dynalite', () => {
  type Message = Awaited<ReturnType<typeof signDynamoRequest>>;

  async function guarded() {
    const credentials = runCredentials();
    const server: Server = dynalite({ createTableMs: 0 });
    guardRequests(server, credentials);
    const socketPath = join(tempDir(), 'guarded.sock');
    await new Promise<void>((ready) => server.listen(socketPath, () => ready()));
    cleanups.push(() => new Promise<void>((done) => server.close(() => done())));
    const send = async (
      target: string,
      input: unknown,
      change?: (message: Message) => void,
      options: { applyChecksum?: boolean; unsigned?: string[]; key?: typeof credentials } = {},
    ) => {
      const message = await signDynamoRequest(options.key ?? credentials, target, input, options);
      change?.(message);
      return sendRaw(socketPath, message);
    };
    await send('CreateTable', {
      ...TABLE,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    });
    await until('the table', async () => (await send('DescribeTable', TABLE)).body.includes('"ACTIVE"'));
    const count = async () => JSON.parse((await send('Scan', TABLE)).body).Count as number;
    return { send, count, credentials };
  }
  const refused = { status: 403 };

  it("serves a request signed with the run's key", async () => {
    const { send, count } = await guarded();

    expect(await send('PutItem', EVIL_ITEM)).toMatchObject({ status: 200 });
    expect(await count()).toBe(1);
  });

  it.each([
    ['origin', 'http://attacker.example'],
    ['sec-fetch-site', 'cross-site'],
    ['sec-fetch-mode', 'no-cors'],
    ['sec-fetch-mode', 'navigate'],
    ['sec-fetch-dest', 'empty'],
  ])(
    'refuses a correctly signed request that carries %s, as a web page would send it',
    async (name, value) => {
      const { send, count } = await guarded();

      const answer = await send('PutItem', EVIL_ITEM, (m) => {
        m.headers[name] = value;
      });

      expect(answer).toMatchObject(refused);
      expect(await count()).toBe(0);
    },
  );

  it("refuses a request made with the run's key id but another secret", async () => {
    const { send, count, credentials } = await guarded();
    const guess = { accessKeyId: credentials.accessKeyId, secretAccessKey: runCredentials().secretAccessKey };

    expect(await send('PutItem', EVIL_ITEM, undefined, { key: guess })).toMatchObject(refused);
    expect(await count()).toBe(0);
  });

  it.each([
    ['with', true],
    ['without', false],
  ])(
    'refuses a signed request whose body was changed after signing (%s a payload hash header)',
    async (_, applyChecksum) => {
      const { send, count } = await guarded();
      const harmless = { ...TABLE, Key: { pk: { S: 'ENV#a/b' }, sk: { S: 'PR#1' } } };

      const answer = await send(
        'PutItem',
        { ...harmless, Item: harmless.Key },
        (m) => {
          m.body = JSON.stringify(EVIL_ITEM);
          m.headers['content-length'] = String(Buffer.byteLength(m.body));
        },
        { applyChecksum },
      );

      expect(answer).toMatchObject(refused);
      expect(await count()).toBe(0);
    },
  );

  it('refuses a signature that does not cover the operation, which could then be swapped', async () => {
    const { send, count } = await guarded();

    expect(await send('PutItem', EVIL_ITEM, undefined, { unsigned: ['x-amz-target'] })).toMatchObject(
      refused,
    );
    expect(await count()).toBe(0);
  });

  it('refuses a body whose claimed payload hash is not its own', async () => {
    const { send, count } = await guarded();

    for (const claimed of [
      'UNSIGNED-PAYLOAD',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ]) {
      const answer = await send('PutItem', EVIL_ITEM, (m) => {
        m.headers['x-amz-content-sha256'] = claimed;
      });
      expect(answer).toMatchObject(refused);
    }
    expect(await count()).toBe(0);
  });

  it('refuses a signed request replayed onto another operation', async () => {
    const { send, count } = await guarded();

    const answer = await send(
      'BatchWriteItem',
      { RequestItems: { [TABLE.TableName]: [{ PutRequest: { Item: EVIL_ITEM.Item } }] } },
      (m) => {
        m.headers['x-amz-target'] = 'DynamoDB_20120810.PutItem';
      },
    );

    expect(answer).toMatchObject(refused);
    expect(await count()).toBe(0);
  });
});
