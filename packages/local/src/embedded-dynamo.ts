import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { createTable, DynamoEnvironmentStore, DynamoSignInCodes, documentClient } from '@matinee/aws';
import dynalite from 'dynalite';
import { guardRequests, runCredentials } from './dynamo-guard.ts';

export const LOCAL_TABLE = 'matinee-local';

/** Longest Unix socket path Linux and macOS accept (`sun_path`, less its terminating NUL). */
const MAX_SOCKET_PATH = 103;

/** HTTP over a Unix socket: every connection the SDK opens goes to `path`, whatever host it names. */
class UnixSocketAgent extends Agent {
  constructor(private readonly path: string) {
    super({ keepAlive: true });
  }

  override createConnection(): Socket {
    return connect({ path: this.path });
  }
}

/** Whether a server answers on the socket at `path` (another Matinee on the same data dir). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Where the socket goes: in `dir` (mode 0700, so only this user reaches it), or, when that path is too
 * long for a Unix socket, in a private directory of its own under the system's temporary directory.
 */
function socketDir(dir: string): { dir: string; temporary: boolean } {
  if (join(dir, 'dynamo.sock').length <= MAX_SOCKET_PATH) return { dir, temporary: false };
  return { dir: mkdtempSync(join(tmpdir(), 'matinee-db-')), temporary: true };
}

/**
 * DynamoDB on this machine: dynalite in this process, persisted under `dir`, serving the same store
 * adapter as AWS. A restart loses nothing.
 *
 * Nothing else may reach it: a web page could otherwise rewrite an environment (its command) and have
 * local mode run it. So it listens on no TCP port at all, only on a Unix socket only this user can open
 * (directory 0700, socket 0600), which no browser can address; and in front of dynalite every request must
 * carry a SigV4 signature made with a key drawn at random at each start and held only in this process's
 * memory (not in the environment, not on disk), and no browser header (see dynamo-guard.ts). That second
 * line is for what does run as this user: preview apps.
 */
export async function startEmbeddedDynamo(dir: string) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700); // made by an older Matinee with the default mode
  const where = socketDir(dir);
  const socketPath = join(where.dir, 'dynamo.sock');
  if (lstatSync(socketPath, { throwIfNoEntry: false })) {
    if (await answers(socketPath))
      throw new Error(
        `another Matinee is using ${dir}: stop it, or set MATINEE_DATA_DIR to another directory`,
      );
    rmSync(socketPath, { force: true }); // left by a Matinee that did not stop cleanly
  }
  const credentials = runCredentials();
  const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  guardRequests(server, credentials);
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(socketPath, () => ready());
  });
  chmodSync(socketPath, 0o600);
  const agent = new UnixSocketAgent(socketPath);
  const config: DynamoDBClientConfig = {
    // The host only names the request (it is signed); the agent decides where it goes.
    endpoint: 'http://dynamodb.localhost',
    region: 'local',
    credentials,
    requestHandler: { httpAgent: agent },
  };
  const admin = new DynamoDBClient(config);
  await createTable(admin, LOCAL_TABLE);
  admin.destroy();
  const client = documentClient(config);
  return {
    /** For tests, which check that it answers nobody else. */
    socketPath,
    store: new DynamoEnvironmentStore({ client, tableName: LOCAL_TABLE }),
    /** `github` mode's one-time sign-in codes, in the same table as on AWS. */
    signInCodes: new DynamoSignInCodes({ client, tableName: LOCAL_TABLE }),
    async close() {
      client.destroy();
      agent.destroy();
      await new Promise<void>((done) => server.close(() => done()));
      if (where.temporary) rmSync(where.dir, { recursive: true, force: true });
    },
  };
}
