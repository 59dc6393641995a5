import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTable, DynamoEnvironmentStore, documentClient } from '@matinee/aws';
import dynalite from 'dynalite';

export const LOCAL_TABLE = 'matinee-local';

/**
 * DynamoDB on this machine: dynalite in this process, persisted under `dir`, serving the same store
 * adapter as AWS over loopback HTTP. A restart loses nothing.
 */
export async function startEmbeddedDynamo(dir: string) {
  mkdirSync(dir, { recursive: true });
  const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ready());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = {
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const admin = new DynamoDBClient(config);
  await createTable(admin, LOCAL_TABLE);
  admin.destroy();
  const client = documentClient(config);
  return {
    endpoint,
    store: new DynamoEnvironmentStore({ client, tableName: LOCAL_TABLE }),
    async close() {
      client.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
