import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Records every request AWS SDK v3 clients send, with the Lambda function it was made for, so tests can judge
 * the calls afterwards (test/support/iam-requests.ts turns them into IAM requests to simulate).
 *
 *   const recorder = new AwsCallRecorder();
 *   recorder.attach(ecsClient, elbClient, dynamoDocumentClient);   // any SDK v3 client, before its first send
 *   await recorder.as('reconcile', () => reconcileRequested(platform, event));
 *   recorder.calls   // [{ caller: 'reconcile', service: 'ecs', command: 'CreateService', input, output }, …]
 *
 * `attach` adds a middleware at the `initialize` step, so it sees the command's input as the caller gave it
 * and, once the call returns, its output (or the error's name). A client whose `send` aws-sdk-client-mock has
 * replaced (test/support/fake-aws.ts) never runs its middleware stack: there `attach` wraps `send` instead and
 * records the same thing. `as(caller, fn)` labels every call made inside `fn`, however deep in async code
 * (AsyncLocalStorage); a call outside any `as` has no caller, which a test should treat as a mistake.
 */
export interface RecordedCall {
  /** The function the call was made for (`reconcile`, `wake`, …); undefined outside `as`. */
  caller?: string;
  /** The IAM service prefix: `ecs`, `elasticloadbalancing`, `dynamodb`, … */
  service: string;
  /** The API operation: `CreateService`, `GetItem`, … */
  command: string;
  input: Record<string, unknown>;
  output?: Record<string, unknown>;
  /** The error's name when the call failed. */
  error?: string;
}

/** IAM service prefix of each SDK client class. */
const SERVICE: Record<string, string> = {
  ECSClient: 'ecs',
  ElasticLoadBalancingV2Client: 'elasticloadbalancing',
  CloudWatchClient: 'cloudwatch',
  EventBridgeClient: 'events',
  ResourceGroupsTaggingAPIClient: 'tag',
  DynamoDBClient: 'dynamodb',
  DynamoDBDocumentClient: 'dynamodb',
  EFSClient: 'elasticfilesystem',
  LambdaClient: 'lambda',
  CodeBuildClient: 'codebuild',
  S3Client: 's3',
  ECRClient: 'ecr',
  CloudWatchLogsClient: 'logs',
  IAMClient: 'iam',
};

/** The document client's commands and the DynamoDB operations they are. */
const DOCUMENT_COMMANDS: Record<string, string> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
};

interface Client {
  constructor: { name: string };
  send: (...args: never[]) => Promise<unknown>;
  middlewareStack: {
    add: (middleware: unknown, options: { step: string; name: string; tags?: string[] }) => void;
  };
}

const MIDDLEWARE = 'matineeAwsCallRecorder';

export class AwsCallRecorder {
  readonly calls: RecordedCall[] = [];
  private readonly caller = new AsyncLocalStorage<string>();
  private readonly attached = new WeakSet<object>();

  /** Records every call these clients send from now on; attaching a client twice records it once. */
  attach(...clients: object[]): this {
    for (const client of clients as Client[]) {
      if (this.attached.has(client)) continue;
      this.attached.add(client);
      const service = SERVICE[client.constructor.name];
      if (!service) throw new Error(`AwsCallRecorder: no IAM service prefix for ${client.constructor.name}`);
      const send = client.send as { restore?: unknown };
      if (typeof send.restore === 'function') this.wrapSend(client, service);
      else this.addMiddleware(client, service);
    }
    return this;
  }

  /** Runs `fn`, labelling every call made inside it with `caller`. */
  as<T>(caller: string, fn: () => Promise<T>): Promise<T> {
    return this.caller.run(caller, fn);
  }

  private start(service: string, commandName: string, input: unknown): RecordedCall {
    const bare = commandName.replace(/Command$/, '');
    const call: RecordedCall = {
      caller: this.caller.getStore(),
      service,
      command: service === 'dynamodb' ? (DOCUMENT_COMMANDS[bare] ?? bare) : bare,
      input: structuredClone((input ?? {}) as Record<string, unknown>),
    };
    this.calls.push(call);
    return call;
  }

  private async finish<T>(call: RecordedCall, result: Promise<T>, output: (value: T) => unknown): Promise<T> {
    try {
      const value = await result;
      call.output = cloneable((output(value) ?? {}) as Record<string, unknown>);
      return value;
    } catch (error) {
      call.error = error instanceof Error ? error.name : String(error);
      throw error;
    }
  }

  private addMiddleware(client: Client, service: string): void {
    client.middlewareStack.add(
      (next: (args: { input: unknown }) => Promise<{ output: unknown }>, context: { commandName?: string }) =>
        async (args: { input: unknown }) => {
          const call = this.start(service, context.commandName ?? 'Unknown', args.input);
          return this.finish(call, next(args), (result) => result.output);
        },
      { step: 'initialize', name: MIDDLEWARE, tags: ['MATINEE_TEST'] },
    );
  }

  private wrapSend(client: Client, service: string): void {
    const send = client.send.bind(client) as (command: {
      constructor: { name: string };
      input: unknown;
    }) => Promise<unknown>;
    Object.assign(client, {
      send: (command: { constructor: { name: string }; input: unknown }) => {
        const call = this.start(service, command.constructor.name, command.input);
        return this.finish(call, send(command), (output) => output);
      },
    });
  }
}

/** A copy of `output` without what cannot be copied (an S3 object's Body stream). */
function cloneable(output: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(output)) {
    try {
      copy[key] = structuredClone(value);
    } catch {
      // Streams and other live objects: what IAM authorizes never depends on them.
    }
  }
  return copy;
}
