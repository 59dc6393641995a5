import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from './dynamodb-local.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

/** One DynamoDB Local for the whole run; each test file makes its own tables. */
export default async function setup(project: TestProject) {
  const { endpoint, stop } = await startDynamoDbLocal();
  project.provide('dynamoEndpoint', endpoint);
  // In memory: nothing to flush, so no reason to wait for a graceful JVM shutdown.
  return stop;
}
