import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTable, documentClient } from '@matinee/aws';
import { inject } from 'vitest';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A fresh table on the run's DynamoDB Local, and a DocumentClient for it. */
export async function localTable(): Promise<{
  tableName: string;
  client: ReturnType<typeof documentClient>;
}> {
  const endpoint = inject('dynamoEndpoint');
  const tableName = `matinee-test-${randomUUID().slice(0, 8)}`;
  const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  await createTable(raw, tableName);
  raw.destroy();
  return { tableName, client: documentClient({ endpoint, region: 'us-east-1', credentials }) };
}
