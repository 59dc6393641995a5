import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import type { AwsClients } from '@matinee/aws';
import { readSettings } from '../../functions/lib/settings.ts';
import { allParts } from './all-parts.ts';
import { localTable } from './dynamo.ts';
import { MemoryLogger } from './fakes.ts';
import { links } from './stage.ts';

export { links, STAGE } from './stage.ts';

/**
 * The functions' platform as on AWS, with the store on a fresh DynamoDB Local table and every other AWS
 * client given by the caller (mocked or the stateful fake).
 */
export async function testPlatform(
  clients: Omit<AwsClients, 'dynamo'> = {
    ecs: new ECSClient({ region: 'us-east-1' }),
    elb: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
    cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
    eventbridge: new EventBridgeClient({ region: 'us-east-1' }),
    tagging: new ResourceGroupsTaggingAPIClient({ region: 'us-east-1' }),
  },
  overrides: Parameters<typeof links>[0] = {},
) {
  const { tableName, client } = await localTable();
  const linked = links(overrides);
  linked.MatineeTable.name = tableName;
  const config = readSettings(linked, { github: true, webhookSecret: true, dashboardPassword: true });
  const log = new MemoryLogger();
  return { platform: allParts(config, { ...clients, dynamo: client }, log), log, tableName };
}
