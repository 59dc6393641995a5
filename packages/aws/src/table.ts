import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { isAwsError } from './errors.ts';

/**
 * Matinee's one table, as data: the store reads and writes it, the infrastructure stack creates it from
 * this, and local mode and tests create it with `createTable`.
 *
 * - environment: pk `ENV#<owner/repo>`, sk `PR#<number, zero-padded>` (a repository's environments are one Query)
 * - host:        pk `HOST#<host>`,      sk `HOST`  (uniqueness of hosts; points at the environment)
 * - delivery:    pk `DELIVERY#<id>`,    sk `DELIVERY` (webhook redelivery guard, expires by TTL)
 * - comment:     pk `COMMENT#<owner/repo>/<comment id>`, sk `COMMENT` (a command comment obeyed once, expires by TTL)
 * - sign-in:     pk `SIGNIN#<sha256 of a one-time code>`, sk `SIGNIN` (github mode's sign-in hands a
 *   preview host one; consumed by a conditional delete, expires by TTL; see DynamoSignInCodes)
 * - limit:       pk `LIMIT#<key>`,      sk `WINDOW#<seconds>#<start>` (events counted in one window of a
 *   rate limit, expires by TTL; see DynamoRateLimiter)
 * - GSI `awake`: only items with `awakePk` (environments that hold or are about to hold a task and a
 *   target group: `countsAsAwake` in core), sorted by `lastActiveAt`, every attribute projected: the
 *   sweep and the capacity count read awake environments and nothing else.
 * - TTL on `ttl` (epoch seconds): deliveries, comments, sign-in codes, rate limit windows, and tombstones of deleted
 *   environments with their hosts.
 */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  billingMode: 'PAY_PER_REQUEST',
  awakeIndex: 'awake',
  awakePartitionKey: 'awakePk',
  awakeSortKey: 'lastActiveAt',
  awakeProjection: 'ALL',
  ttlAttribute: 'ttl',
} as const;

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: TABLE.billingMode,
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
        Projection: { ProjectionType: TABLE.awakeProjection },
      },
    ],
  };
}

/** Creates the table unless it exists, waits until it and its index are usable, and turns TTL on. */
export async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  } catch (error) {
    if (!isAwsError(error, 'ResourceInUseException')) throw error;
  }
  await waitUntilActive(client, tableName);
  await enableTtl(client, tableName);
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline)
      throw new Error(`table ${tableName} is not ACTIVE after 60 s (status ${Table?.TableStatus})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function enableTtl(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    // Asked first because enabling it twice is an error (a ValidationException, on AWS and DynamoDB Local).
    const { TimeToLiveDescription: ttl } = await client.send(
      new DescribeTimeToLiveCommand({ TableName: tableName }),
    );
    const on = ttl?.TimeToLiveStatus === 'ENABLED' || ttl?.TimeToLiveStatus === 'ENABLING';
    if (on && ttl?.AttributeName === TABLE.ttlAttribute) return;
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    // dynalite (local mode) has no TTL operations at all. The store never relies on expired items being
    // gone: its conditions treat an expired delivery or host as absent.
    if (!isAwsError(error, 'UnknownOperationException')) throw error;
  }
}
