import { type ChildProcess, spawn } from 'node:child_process';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CloudWatchLogLinks, CloudWatchLogReader } from '@matinee/aws';
import { environmentId, resourceNames } from '@matinee/core';
import { freePort } from '@matinee/local';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/until.ts';

/**
 * The CloudWatch Logs adapter against moto's server (an implementation of the API nobody here wrote): the
 * stream it reads is the one the awslogs driver writes for the app container of the stopped task.
 */
const GROUP = '/matinee/test/previews';
const NAMES = resourceNames('test', environmentId('acme/web', 42), 'fix-login-pr42');
const REGION = 'eu-west-1';

let moto: ChildProcess;
let logs: CloudWatchLogsClient;

beforeAll(async () => {
  const port = await freePort();
  moto = spawn('python3', ['-m', 'moto.server', '-p', String(port)], { stdio: 'ignore', detached: true });
  logs = new CloudWatchLogsClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  await until(
    'moto answers',
    async () => {
      try {
        await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
        return true;
      } catch (error) {
        return (error as Error).name === 'ResourceAlreadyExistsException';
      }
    },
    60_000,
  );
  const stream = `${NAMES.service}/app/f00d`;
  await logs.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: stream }));
  const start = Date.now() - 60_000;
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: GROUP,
      logStreamName: stream,
      logEvents: Array.from({ length: 30 }, (_, i) => ({
        timestamp: start + i * 1000,
        message: `line ${i}`,
      })),
    }),
  );
}, 90_000);

afterAll(() => {
  logs?.destroy();
  if (moto?.pid) process.kill(-moto.pid, 'SIGKILL');
});

describe('the CloudWatch Logs reader', () => {
  it("reads the last lines of the stopped task's app stream, oldest first", async () => {
    const reader = new CloudWatchLogReader(logs, { region: REGION, logGroup: GROUP });

    const lines = await reader.tail({ names: NAMES, task: 'f00d' }, 5);

    expect(lines).toEqual(['line 25', 'line 26', 'line 27', 'line 28', 'line 29']);
  });

  it('reads nothing for a task that never wrote a line', async () => {
    const reader = new CloudWatchLogReader(logs, { region: REGION, logGroup: GROUP });

    expect(await reader.tail({ names: NAMES, task: 'beef' }, 5)).toEqual([]);
  });

  it('reads nothing when no task is known: streams cannot be listed by recency', async () => {
    const reader = new CloudWatchLogReader(logs, { region: REGION, logGroup: GROUP });

    expect(await reader.tail({ names: NAMES }, 5)).toEqual([]);
  });
});

describe('links to the CloudWatch console', () => {
  const links = new CloudWatchLogLinks({ region: REGION, logGroup: GROUP });

  it("link to the stopped task's stream", () => {
    expect(links.locate({ names: NAMES, task: 'f00d' }).url).toBe(
      'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fmatinee$252Ftest$252Fpreviews/log-events/matinee-test-fix-login-pr42$252Fapp$252Ff00d',
    );
  });

  it("link to the environment's streams when no task is known", () => {
    expect(links.locate({ names: NAMES }).url).toBe(
      'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fmatinee$252Ftest$252Fpreviews$3FlogStreamNameFilter$3Dmatinee-test-fix-login-pr42$252F',
    );
  });
});
