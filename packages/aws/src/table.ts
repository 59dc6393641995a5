import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';

/**
 * Matinee's one table, as data: the store reads and writes it, the infrastructure stack creates it from
 * this, and tests create it on DynamoDB Local.
 *
 * - environment: pk `ENV#<owner/repo>`, sk `PR#<number, zero-padded>` (a repository's environments are one Query)
 * - host:        pk `HOST#<host>`,      sk `HOST`  (uniqueness of hosts; points at the environment)
 * - delivery:    pk `DELIVERY#<id>`,    sk `DELIVERY` (webhook redelivery guard, expires by TTL)
 * - GSI `awake`: only items with `awakePk` (environments whose desired phase is running), sorted by
 *   `lastActiveAt`: the sweep reads awake environments and nothing else.
 */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  awakeIndex: 'awake',
  awakePartitionKey: 'awakePk',
  awakeSortKey: 'lastActiveAt',
  ttlAttribute: 'ttl',
} as const;

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: TABLE.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE.sortKey, AttributeType: 'S' },
      { AttributeName: TABLE.awakePartitionKey, AttributeType: 'S' },
      { AttributeName: TABLE.awakeSortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: TABLE.awakeIndex,
        KeySchema: [
          { AttributeName: TABLE.awakePartitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.awakeSortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/** Creates the table unless it exists, and waits until it is usable. For local mode and tests. */
export async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  for (let attempt = 0; attempt < 100; attempt++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesReady = (Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === 'ACTIVE',
    );
    if (Table?.TableStatus === 'ACTIVE' && indexesReady) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    // Embedded stores (dynalite) do not implement TTL, and DynamoDB Local answers a repeat with an error;
    // expiry is also checked on read, so the store stays correct without it.
    const name = (error as { name?: string }).name ?? '';
    if (!/UnknownOperation|ValidationException|UnrecognizedClient/.test(name)) throw error;
  }
}
