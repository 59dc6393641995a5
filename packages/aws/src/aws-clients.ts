import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from './document-client.ts';

/** Every SDK client the adapters take, by the option name each adapter takes it under. */
export interface AwsClients {
  dynamo: DynamoDBDocumentClient;
  ecs: ECSClient;
  elb: ElasticLoadBalancingV2Client;
  cloudwatch: CloudWatchClient;
  eventbridge: EventBridgeClient;
  tagging: ResourceGroupsTaggingAPIClient;
}

/**
 * The real clients for `region`, for a composition root (a Lambda container makes them once). Adapters
 * never make their own, so tests hand them mocked ones instead.
 */
export function awsClients(region: string): AwsClients {
  return {
    dynamo: documentClient({ region }),
    ecs: new ECSClient({ region }),
    elb: new ElasticLoadBalancingV2Client({ region }),
    cloudwatch: new CloudWatchClient({ region }),
    eventbridge: new EventBridgeClient({ region }),
    tagging: new ResourceGroupsTaggingAPIClient({ region }),
  };
}
