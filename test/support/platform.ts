import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import type { AwsClients } from '@matinee/aws';
import { platform } from '../../functions/lib/platform.ts';
import { readSettings, type StageSettings } from '../../functions/lib/settings.ts';
import { localTable } from './dynamo.ts';
import { MemoryLogger } from './fakes.ts';

export const STAGE: StageSettings = {
  stage: 'test',
  domain: 'preview.example.com',
  region: 'us-east-1',
  cluster: { name: 'matinee-test', arn: 'arn:aws:ecs:us-east-1:123456789012:cluster/matinee-test' },
  loadBalancer: {
    fullName: 'app/matinee-test/50dc6c495c0c9188',
    listenerArn:
      'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/matinee-test/50dc6c495c0c9188/f2f7dc8efc522ab2',
  },
  network: {
    vpcId: 'vpc-0a1b2c3d',
    subnets: ['subnet-0a', 'subnet-0b'],
    securityGroups: ['sg-0task'],
    assignPublicIp: true,
  },
  roles: {
    executionRoleArn: 'arn:aws:iam::123456789012:role/matinee-test-execution',
    taskRoleArn: 'arn:aws:iam::123456789012:role/matinee-test-task',
  },
  logGroup: '/matinee/test/previews',
  maxAwake: 90,
};

/** What SST would link to a function of the `test` stage, as `Resource` presents it. */
export function links(overrides: {
  webhookSecret?: string;
  githubApiUrl?: string;
  dashboardPassword?: string;
}) {
  return {
    MatineeTable: { name: 'replaced-by-test' },
    MatineeBus: { name: 'matinee-test' },
    MatineeSettings: { ...STAGE, githubApiUrl: overrides.githubApiUrl },
    GithubAppId: { value: '' },
    GithubPrivateKey: { value: '' },
    GithubToken: { value: 'github_pat_test' },
    GithubWebhookSecret: { value: overrides.webhookSecret ?? 'webhook-secret' },
    DashboardPassword: { value: overrides.dashboardPassword ?? '' },
  };
}

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
  return { platform: platform(config, { ...clients, dynamo: client }, log), log, tableName };
}
