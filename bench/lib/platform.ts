import { randomUUID } from 'node:crypto';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { type AwsClients, createTable, documentClient } from '@matinee/aws';
import { readSettings } from '../../functions/lib/settings.ts';
import { allParts } from '../../test/support/all-parts.ts';
import { awsDeployment, serveRepo } from '../../test/support/aws-deployment.ts';
import { fakeAws } from '../../test/support/fake-aws.ts';
import { FakeGithub } from '../../test/support/fake-github.ts';
import { links } from '../../test/support/stage.ts';

export const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Counts DynamoDB items read (returned by GetItem, scanned by Query/Scan) through a client. */
export function countReads(client: ReturnType<typeof documentClient>) {
  const counter = { items: 0, calls: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const output = result.output as { Item?: unknown; ScannedCount?: number; Count?: number };
      counter.calls++;
      counter.items += output.ScannedCount ?? output.Count ?? (output.Item ? 1 : 0);
      return result;
    },
    { step: 'initialize', name: 'matineeBenchReadCounter' },
  );
  return counter;
}

/** The functions' platform on a fresh table of DynamoDB Local at `endpoint`, with the other clients given. */
export async function benchPlatform(
  endpoint: string,
  clients: Partial<Omit<AwsClients, 'dynamo'>> = {},
  overrides: Parameters<typeof links>[0] = {},
) {
  const tableName = `matinee-bench-${randomUUID()}`;
  const admin = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  await createTable(admin, tableName);
  admin.destroy();
  const dynamo = documentClient({ endpoint, region: 'us-east-1', credentials });
  const linked = links(overrides);
  linked.MatineeTable.name = tableName;
  const config = readSettings(linked, { github: true, webhookSecret: true, dashboardPassword: true });
  const region = { region: 'us-east-1', credentials };
  const all: AwsClients = {
    dynamo,
    ecs: clients.ecs ?? new ECSClient(region),
    elb: clients.elb ?? new ElasticLoadBalancingV2Client(region),
    cloudwatch: clients.cloudwatch ?? new CloudWatchClient(region),
    eventbridge: clients.eventbridge ?? new EventBridgeClient(region),
    tagging: clients.tagging ?? new ResourceGroupsTaggingAPIClient(region),
  };
  return { platform: allParts(config, all, quiet), dynamo, tableName };
}

/** Every handler over the stateful fake AWS and GitHub stand-in, the store on a fresh table (see aws-deployment.ts). */
export async function fakeDeployment(endpoint: string) {
  const tableName = `matinee-bench-${randomUUID()}`;
  const admin = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  await createTable(admin, tableName);
  admin.destroy();
  const github = await new FakeGithub().start();
  serveRepo(github);
  const aws = fakeAws();
  const d = awsDeployment(aws, github, {
    client: documentClient({ endpoint, region: 'us-east-1', credentials }),
    tableName,
  });
  return { aws, github, d };
}
