import {
  type AwsClients,
  awsClients,
  CloudWatchActivity,
  DynamoEnvironmentStore,
  EcsRuntime,
  ElbRouter,
  EventBridgeBus,
  TaggingInventory,
} from '@matinee/aws';
import type { Logger, Settings, SourceControl } from '@matinee/core';
import { GithubSourceControl } from '@matinee/github';
import { Resource } from 'sst';
import { jsonLogger } from './log.ts';
import { type FunctionSettings, readSettings, type SecretNeeds } from './settings.ts';

/** Everything the core needs, on AWS. One per Lambda container, made on its first invocation. */
export function platform(config: FunctionSettings, clients: AwsClients, log: Logger = jsonLogger()) {
  const { stage } = config;
  const settings: Settings = { stage: stage.stage, domain: stage.domain, scheme: 'https' };
  const source: SourceControl = config.github
    ? new GithubSourceControl({ auth: config.github, baseUrl: stage.githubApiUrl })
    : new Proxy({} as SourceControl, {
        get() {
          throw new Error('this function is not linked to the GitHub secrets');
        },
      });
  return {
    settings,
    log,
    clock: { now: () => new Date() },
    capacity: stage.maxAwake,
    store: new DynamoEnvironmentStore({ client: clients.dynamo, tableName: config.tableName }),
    bus: new EventBridgeBus({ eventbridge: clients.eventbridge, busName: config.busName }),
    runtime: new EcsRuntime({
      ecs: clients.ecs,
      cluster: stage.cluster.arn,
      executionRoleArn: stage.roles.executionRoleArn,
      taskRoleArn: stage.roles.taskRoleArn,
      logGroup: stage.logGroup,
      region: stage.region,
      subnets: stage.network.subnets,
      securityGroups: stage.network.securityGroups,
      assignPublicIp: stage.network.assignPublicIp,
    }),
    router: new ElbRouter({
      elb: clients.elb,
      vpcId: stage.network.vpcId,
      listenerArn: stage.loadBalancer.listenerArn,
    }),
    activity: new CloudWatchActivity({
      cloudwatch: clients.cloudwatch,
      loadBalancerFullName: stage.loadBalancer.fullName,
    }),
    inventory: new TaggingInventory({ tagging: clients.tagging, stage: stage.stage }),
    source,
    config,
  };
}
export type Platform = ReturnType<typeof platform>;

let cached: Platform | undefined;

/** The platform of this Lambda container, from its SST links; secrets beyond `needs` are never read. */
export function fromLinks(needs: SecretNeeds = {}): Platform {
  if (!cached) {
    const config = readSettings(Resource as unknown as Record<string, unknown>, needs);
    cached = platform(config, awsClients(config.stage.region));
  }
  return cached;
}
