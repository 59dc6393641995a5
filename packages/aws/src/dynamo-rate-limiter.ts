import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, type RateLimiter } from '@matinee/core';
import { aws } from './errors.ts';
import { TABLE } from './table.ts';

export interface DynamoRateLimiterOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: () => Date;
}

/** A counter outlives its window by this much before DynamoDB's TTL may delete it (it is unused by then). */
const TTL_MARGIN_SECONDS = 60;

/**
 * The `RateLimiter` on Matinee's table: one item per key and window (pk `LIMIT#<key>`, sk
 * `WINDOW#<seconds>#<start>`) holding the set of events counted in it. One conditional `UpdateItem` per
 * take, no read before it and no scan: it adds the event to the set only while the set holds fewer than
 * `limit` events or holds this one already, so concurrent takes never pass the limit and a retried call
 * counts once. A new window is a new item; the old ones expire by TTL.
 */
export class DynamoRateLimiter implements RateLimiter {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly now: () => Date;

  constructor(options: DynamoRateLimiterOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.now = options.clock ?? (() => new Date());
  }

  async take(key: string, event: string, limit: number, windowSeconds: number) {
    const now = this.now().getTime() / 1000;
    const start = Math.floor(now / windowSeconds) * windowSeconds;
    const end = start + windowSeconds;
    try {
      await aws('UpdateItem rate limit', () =>
        this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: `LIMIT#${key}`, sk: `WINDOW#${windowSeconds}#${start}` },
            UpdateExpression: 'ADD #events :event SET #kind = :kind, #ttl = :ttl',
            ConditionExpression:
              'attribute_not_exists(#events) OR size(#events) < :limit OR contains(#events, :id)',
            ExpressionAttributeNames: { '#events': 'events', '#kind': 'kind', '#ttl': TABLE.ttlAttribute },
            ExpressionAttributeValues: {
              ':event': new Set([event]),
              ':id': event,
              ':limit': limit,
              ':kind': 'limit',
              ':ttl': end + TTL_MARGIN_SECONDS,
            },
          }),
        ),
      );
      return { allowed: true, retryAfterSeconds: 0 };
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(end - now)) };
    }
  }
}
