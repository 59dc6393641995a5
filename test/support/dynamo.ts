import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTable, documentClient } from '@matinee/aws';
import { inject } from 'vitest';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A fresh, uniquely named table on the run's DynamoDB Local, and a DocumentClient for it. */
export async function localTable(): Promise<{ tableName: string; client: DynamoDBDocumentClient }> {
  const endpoint = inject('dynamoEndpoint');
  const tableName = `matinee-test-${randomUUID()}`;
  const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  try {
    await createTable(raw, tableName);
  } finally {
    raw.destroy();
  }
  return { tableName, client: documentClient({ endpoint, region: 'us-east-1', credentials }) };
}
