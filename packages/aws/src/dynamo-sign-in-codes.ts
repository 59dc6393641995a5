import { createHash } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, type SignInCodes, type SignInGrant } from '@matinee/core';
import * as z from 'zod/mini';
import { aws } from './errors.ts';
import { TABLE } from './table.ts';

export interface DynamoSignInCodesOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
}

/**
 * The one-time codes of `github` mode's sign-in in Matinee's table: pk `SIGNIN#<sha256 of the code>` (the
 * code itself is never stored: whoever reads the table cannot use one), expiring by TTL. A code is consumed
 * by one conditional DeleteItem that returns the item: of two uses, even at the same instant, exactly one
 * gets the grant. An expired code DynamoDB has not deleted yet is refused by the same condition.
 */
export class DynamoSignInCodes implements SignInCodes {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoSignInCodesOptions) {
    this.client = options.client;
    this.table = options.tableName;
  }

  async issue(code: string, grant: SignInGrant, expiresAt: Date): Promise<void> {
    await aws('PutItem sign-in code', () =>
      this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...keyOf(code),
            kind: 'sign-in',
            host: grant.host,
            path: grant.path,
            [TABLE.ttlAttribute]: Math.floor(expiresAt.getTime() / 1000),
          },
          // 256 random bits do not collide; if one ever did, the older grant must not be replaced.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  async consume(code: string, now: Date): Promise<SignInGrant | undefined> {
    try {
      const { Attributes } = await aws('DeleteItem sign-in code', () =>
        this.client.send(
          new DeleteCommand({
            TableName: this.table,
            Key: keyOf(code),
            ConditionExpression: 'attribute_exists(pk) AND #ttl > :now',
            ExpressionAttributeNames: { '#ttl': TABLE.ttlAttribute },
            ExpressionAttributeValues: { ':now': Math.floor(now.getTime() / 1000) },
            ReturnValues: 'ALL_OLD',
          }),
        ),
      );
      const stored = storedGrant.safeParse(Attributes);
      return stored.success ? { host: stored.data.host, path: stored.data.path } : undefined;
    } catch (error) {
      if (error instanceof ConflictError) return undefined;
      throw error;
    }
  }
}

/** A stored record is read like any input: a grant with anything odd in it grants nothing. */
const storedGrant = z.object({
  kind: z.literal('sign-in'),
  host: z.string().check(z.minLength(1), z.maxLength(253)),
  path: z.string().check(z.minLength(1), z.maxLength(2048), z.startsWith('/')),
});

function keyOf(code: string): { pk: string; sk: string } {
  return { pk: `SIGNIN#${createHash('sha256').update(code).digest('hex')}`, sk: 'SIGNIN' };
}
