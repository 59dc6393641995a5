import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  ConflictError,
  countsAsAwake,
  type Environment,
  type EnvironmentId,
  type EnvironmentStore,
  MatineeError,
} from '@matinee/core';
import { aws } from './errors.ts';
import { TABLE } from './table.ts';

export interface DynamoStoreOptions {
  /** Built with `marshallOptions: { removeUndefinedValues: true }` (see `documentClient`). */
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: () => Date;
}

const AWAKE = 'AWAKE';

function environmentKey(id: EnvironmentId | string): { pk: string; sk: string } {
  const hash = id.lastIndexOf('#');
  return { pk: `ENV#${id.slice(0, hash)}`, sk: `PR#${id.slice(hash + 1).padStart(10, '0')}` };
}

const hostKey = (host: string) => ({ pk: `HOST#${host}`, sk: 'HOST' });
const deliveryKey = (id: string) => ({ pk: `DELIVERY#${id}`, sk: 'DELIVERY' });
const commentKey = (key: string) => ({ pk: `COMMENT#${key}`, sk: 'COMMENT' });
const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/**
 * The environment as one item: the document under `env`, plus the attributes keys and indexes need. The
 * one place the awake index's attributes are derived; every write is a whole item, so each save puts an
 * environment into the index or takes it out.
 */
function toItem(env: Environment): Record<string, unknown> {
  const awake = countsAsAwake(env)
    ? {
        [TABLE.awakePartitionKey]: AWAKE,
        [TABLE.awakeSortKey]: env.lastRequestAt ?? env.awakeSince ?? env.updatedAt,
      }
    : {};
  const ttl = env.expiresAt ? { [TABLE.ttlAttribute]: epochSeconds(env.expiresAt) } : {};
  return { ...environmentKey(env.id), kind: 'environment', version: env.version, env, ...awake, ...ttl };
}

function fromItem(item: Record<string, unknown> | undefined): Environment | undefined {
  return item ? (item.env as Environment) : undefined;
}

/** The `EnvironmentStore` on DynamoDB (and on DynamoDB-compatible embedded stores: no transactions used). */
export class DynamoEnvironmentStore implements EnvironmentStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly now: () => Date;

  constructor(options: DynamoStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.now = options.clock ?? (() => new Date());
  }

  async get(id: EnvironmentId): Promise<Environment | undefined> {
    const { Item } = await aws('GetItem environment', () =>
      this.client.send(
        new GetCommand({ TableName: this.table, Key: environmentKey(id), ConsistentRead: true }),
      ),
    );
    return fromItem(Item);
  }

  async getByHost(host: string): Promise<Environment | undefined> {
    const { Item } = await aws('GetItem host', () =>
      this.client.send(new GetCommand({ TableName: this.table, Key: hostKey(host), ConsistentRead: true })),
    );
    if (!Item) return undefined;
    const env = await this.get(Item.envId as EnvironmentId);
    // A host claimed by a create that then lost (or never finished) is not that environment's host.
    return env?.host === host ? env : undefined;
  }

  async listByRepo(repo: string): Promise<Environment[]> {
    return this.query({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `ENV#${repo}` },
      ConsistentRead: true,
    });
  }

  async listAwake(): Promise<Environment[]> {
    return this.query({
      TableName: this.table,
      IndexName: TABLE.awakeIndex,
      KeyConditionExpression: '#awake = :awake',
      ExpressionAttributeNames: { '#awake': TABLE.awakePartitionKey },
      ExpressionAttributeValues: { ':awake': AWAKE },
    });
  }

  async listAll(): Promise<Environment[]> {
    const found: Environment[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await aws('Scan environments', () =>
        this.client.send(
          new ScanCommand({
            TableName: this.table,
            FilterExpression: 'begins_with(pk, :env)',
            ExpressionAttributeValues: { ':env': 'ENV#' },
            ExclusiveStartKey,
          }),
        ),
      );
      found.push(...(page.Items ?? []).flatMap((item) => fromItem(item) ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return found;
  }

  private async query(input: ConstructorParameters<typeof QueryCommand>[0]): Promise<Environment[]> {
    const found: Environment[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await aws('Query environments', () =>
        this.client.send(new QueryCommand({ ...input, ExclusiveStartKey })),
      );
      found.push(...(page.Items ?? []).flatMap((item) => fromItem(item) ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return found;
  }

  /**
   * Claims the first free host, then writes the environment. Two writes, each conditional and each safe
   * to repeat: a host already claimed by this id counts as ours, so a retry after a crash in between works.
   */
  async create(
    draft: Omit<Environment, 'slug' | 'host' | 'version'>,
    slugs: string[],
    domain: string,
  ): Promise<Environment> {
    for (const slug of slugs) {
      const host = `${slug}.${domain}`;
      if (!(await this.claimHost(host, draft.id))) continue;
      const env: Environment = { ...draft, slug, host, version: 1 };
      try {
        await aws('PutItem new environment', () =>
          this.client.send(
            new PutCommand({
              TableName: this.table,
              Item: toItem(env),
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          ),
        );
      } catch (error) {
        if (error instanceof ConflictError)
          throw new ConflictError(`environment ${draft.id} already exists`, { cause: error });
        throw error;
      }
      return env;
    }
    throw new MatineeError(
      `every host for ${draft.id} is taken: ${slugs.map((s) => `${s}.${domain}`).join(', ')}`,
    );
  }

  private async claimHost(host: string, id: EnvironmentId): Promise<boolean> {
    try {
      await aws('PutItem host', () =>
        this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...hostKey(host), kind: 'host', envId: id },
            // Free, ours already (a retried create), or an expired tombstone DynamoDB has not deleted yet.
            ConditionExpression: 'attribute_not_exists(pk) OR envId = :id OR #ttl < :now',
            ExpressionAttributeNames: { '#ttl': TABLE.ttlAttribute },
            ExpressionAttributeValues: { ':id': id, ':now': Math.floor(this.now().getTime() / 1000) },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  }

  async save(env: Environment): Promise<Environment> {
    const next: Environment = { ...env, version: env.version + 1 };
    const item = toItem(next);
    let previous: Record<string, unknown> | undefined;
    try {
      ({ Attributes: previous } = await aws('PutItem environment', () =>
        this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: item,
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': env.version },
            ReturnValues: 'ALL_OLD',
          }),
        ),
      ));
    } catch (error) {
      if (error instanceof ConflictError) {
        throw new ConflictError(`environment ${env.id} changed since version ${env.version}`, {
          cause: error,
        });
      }
      throw error;
    }
    // The host expires with its tombstone, so the name can be taken again afterwards; an environment
    // brought back from deletion keeps its host for good again.
    const ttl = item[TABLE.ttlAttribute] as number | undefined;
    if (ttl !== undefined || previous?.[TABLE.ttlAttribute] !== undefined) await this.expireHost(next, ttl);
    return next;
  }

  /** Sets (or, with no `ttl`, removes) the expiry of the environment's host item, if it is still its own. */
  private async expireHost(env: Environment, ttl: number | undefined): Promise<void> {
    try {
      await aws('UpdateItem host expiry', () =>
        this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: hostKey(env.host),
            UpdateExpression: ttl === undefined ? 'REMOVE #ttl' : 'SET #ttl = :ttl',
            ConditionExpression: 'envId = :id',
            ExpressionAttributeNames: { '#ttl': TABLE.ttlAttribute },
            ExpressionAttributeValues: { ':id': env.id, ...(ttl === undefined ? {} : { ':ttl': ttl }) },
          }),
        ),
      );
    } catch (error) {
      // Gone or taken by another environment after expiring: nothing of ours left to change.
      if (!(error instanceof ConflictError)) throw error;
    }
  }

  async claimDelivery(deliveryId: string, ttlSeconds: number): Promise<boolean> {
    return this.claim('delivery', deliveryKey(deliveryId), ttlSeconds);
  }

  async releaseDelivery(deliveryId: string): Promise<void> {
    await aws('DeleteItem delivery', () =>
      this.client.send(new DeleteCommand({ TableName: this.table, Key: deliveryKey(deliveryId) })),
    );
  }

  async claimComment(key: string, ttlSeconds: number): Promise<boolean> {
    return this.claim('comment', commentKey(key), ttlSeconds);
  }

  async releaseComment(key: string): Promise<void> {
    await aws('DeleteItem comment', () =>
      this.client.send(new DeleteCommand({ TableName: this.table, Key: commentKey(key) })),
    );
  }

  /**
   * Writes a marker item unless one is there and not yet expired: one conditional put, so of two claims
   * racing exactly one wins. An expired marker DynamoDB has not deleted yet counts as absent.
   */
  private async claim(kind: string, key: { pk: string; sk: string }, ttlSeconds: number): Promise<boolean> {
    const now = Math.floor(this.now().getTime() / 1000);
    try {
      await aws(`PutItem ${kind}`, () =>
        this.client.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...key, kind, [TABLE.ttlAttribute]: now + ttlSeconds },
            ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
            ExpressionAttributeNames: { '#ttl': TABLE.ttlAttribute },
            ExpressionAttributeValues: { ':now': now },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  }
}
