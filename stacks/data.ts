import { TABLE } from '../packages/aws/src/table.ts';

export interface Data {
  table: sst.aws.Dynamo;
  bus: sst.aws.Bus;
  /** Failed deliveries of the event rules and failed asynchronous invocations of their functions. */
  deadLetters: aws.sqs.Queue;
}

/**
 * Linking gives a function a resource's name; it grants nothing. SST's default links of a table and a bus
 * would add `dynamodb:*` and `events:*` to every linked function, and stacks/permissions.ts already grants
 * exactly the actions each function calls.
 */
function linkNamesOnly() {
  sst.Linkable.wrap(sst.aws.Dynamo, (table) => ({ properties: { name: table.name } }));
  sst.Linkable.wrap(sst.aws.Bus, (bus) => ({ properties: { name: bus.name, arn: bus.arn } }));
}

/**
 * Matinee's one table, exactly as packages/aws/src/table.ts defines it (on-demand, point-in-time recovery,
 * TTL, the sparse `awake` index), its event bus, and the dead-letter queue of the event-driven functions.
 */
export function data(stage: string): Data {
  linkNamesOnly();
  const table = new sst.aws.Dynamo('MatineeTable', {
    fields: {
      [TABLE.partitionKey]: 'string',
      [TABLE.sortKey]: 'string',
      [TABLE.awakePartitionKey]: 'string',
      [TABLE.awakeSortKey]: 'string',
    },
    primaryIndex: { hashKey: TABLE.partitionKey, rangeKey: TABLE.sortKey },
    globalIndexes: {
      [TABLE.awakeIndex]: {
        hashKey: TABLE.awakePartitionKey,
        rangeKey: TABLE.awakeSortKey,
        projection: TABLE.awakeProjection === 'ALL' ? 'all' : 'keys-only',
      },
    },
    ttl: TABLE.ttlAttribute,
    deletionProtection: stage === 'production',
    transform: {
      table: { billingMode: TABLE.billingMode, pointInTimeRecovery: { enabled: true } },
    },
  });

  const bus = new sst.aws.Bus('MatineeBus');

  const deadLetters = new aws.sqs.Queue('MatineeDeadLetters', {
    messageRetentionSeconds: 14 * 24 * 3600,
    sqsManagedSseEnabled: true,
  });

  return { table, bus, deadLetters };
}
