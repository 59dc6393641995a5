import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EFSClient } from '@aws-sdk/client-efs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  CloudWatchActivity,
  CloudWatchLogLinks,
  CloudWatchLogReader,
  CodeBuildImageBuilder,
  DynamoEnvironmentStore,
  DynamoRateLimiter,
  DynamoSignInCodes,
  documentClient,
  EcrImages,
  EcsRuntime,
  EfsVolumes,
  ElbRouter,
  EventBridgeBus,
  LambdaVolumeJanitor,
  TaggingInventory,
  VolumeRoles,
} from '@matinee/aws';
import {
  type Inventory,
  type Logger,
  type PreviewSignIn,
  type Settings,
  type SignInDeps,
  type SourceArchive,
  stateKey,
} from '@matinee/core';
import { GithubOAuth, GithubSourceControl } from '@matinee/github';
import { Resource } from 'sst';
import { jsonLogger } from './log.ts';
import { type FunctionSettings, readSettings, type SecretNeeds } from './settings.ts';

/**
 * The core's ports on AWS, in parts: each function composes only the parts it uses, so its bundle holds
 * only those SDK clients (see bench/RESULTS.md). Clients are made here unless a test gives its own.
 * Retries: the SDK's standard strategy; control-plane calls get a few more attempts than the default 3,
 * since ECS and ELBv2 throttle bursts of describes.
 */
const CONTROL_PLANE_ATTEMPTS = 5;

/** Settings, log, clock, the store and the bus: what every function needs. */
export function basePart(
  config: FunctionSettings,
  clients: { dynamo?: DynamoDBDocumentClient; eventbridge?: EventBridgeClient } = {},
  log: Logger = jsonLogger(),
) {
  const { stage } = config;
  const settings: Settings = {
    stage: stage.stage,
    domain: stage.domain,
    scheme: 'https',
    // MATINEE_ACCESS: the wake gate, the rules' cookie condition and the links shown all follow it.
    access: stage.access.mode,
    defaults: stage.defaults && {
      size: { cpu: stage.defaults.cpu, memory: stage.defaults.memory },
      idle: stage.defaults.idleSeconds,
    },
  };
  return {
    config,
    settings,
    log,
    clock: { now: () => new Date() },
    capacity: stage.maxAwake,
    prices: stage.prices,
    // Links to the previews' output for the pull request comment: made without a call (see logsPart).
    logs: new CloudWatchLogLinks({ region: stage.region, logGroup: stage.logGroup }),
    store: new DynamoEnvironmentStore({
      client: clients.dynamo ?? documentClient({ region: stage.region }),
      tableName: config.tableName,
    }),
    bus: new EventBridgeBus({
      eventbridge: clients.eventbridge ?? new EventBridgeClient({ region: stage.region }),
      busName: config.busName,
    }),
  };
}
export type BasePart = ReturnType<typeof basePart>;

/** The wake limits' counters, in the table (the same DocumentClient as the store's, when given). */
export function wakePart(config: FunctionSettings, clients: { dynamo?: DynamoDBDocumentClient } = {}) {
  return {
    limiter: new DynamoRateLimiter({
      client: clients.dynamo ?? documentClient({ region: config.stage.region }),
      tableName: config.tableName,
    }),
    limits: config.stage.limits,
  };
}
export type WakePart = ReturnType<typeof wakePart>;

/** ECS and the ALB: what reconcile changes. */
export function cloudPart(
  config: FunctionSettings,
  clients: { ecs?: ECSClient; elb?: ElasticLoadBalancingV2Client } = {},
) {
  const { stage } = config;
  const options = { region: stage.region, maxAttempts: CONTROL_PLANE_ATTEMPTS };
  return {
    runtime: new EcsRuntime({
      ecs: clients.ecs ?? new ECSClient(options),
      cluster: stage.cluster.arn,
      executionRoleArn: stage.roles.executionRoleArn,
      taskRoleArn: stage.roles.taskRoleArn,
      logGroup: stage.logGroup,
      region: stage.region,
      subnets: stage.network.subnets,
      securityGroups: stage.network.securityGroups,
      assignPublicIp: stage.network.assignPublicIp,
      fileSystemId: stage.volumes?.fileSystemId,
    }),
    router: new ElbRouter({
      elb: clients.elb ?? new ElasticLoadBalancingV2Client(options),
      vpcId: stage.network.vpcId,
      listenerArn: stage.loadBalancer.listenerArn,
    }),
  };
}
export type CloudPart = ReturnType<typeof cloudPart>;

/** Reading the previews' output (the failed page, the dashboard): GetLogEvents on the stage's log group. */
export function logsPart(config: FunctionSettings, clients: { logs?: CloudWatchLogsClient } = {}) {
  const { stage } = config;
  return {
    logs: new CloudWatchLogReader(clients.logs ?? new CloudWatchLogsClient({ region: stage.region }), {
      region: stage.region,
      logGroup: stage.logGroup,
    }),
  };
}
export type LogsPart = ReturnType<typeof logsPart>;

export function activityPart(config: FunctionSettings, clients: { cloudwatch?: CloudWatchClient } = {}) {
  return {
    activity: new CloudWatchActivity({
      cloudwatch: clients.cloudwatch ?? new CloudWatchClient({ region: config.stage.region }),
      loadBalancerFullName: config.stage.loadBalancer.fullName,
    }),
  };
}
export type ActivityPart = ReturnType<typeof activityPart>;

/**
 * `.matinee.yml` volumes: access points in the stage's file system, each environment's mounted by a role of
 * its own, their data deleted by the janitor function (invoked and waited for). Absent on a stage deployed without them: such a config then fails
 * with a message saying so.
 */
export function volumesPart(
  config: FunctionSettings,
  clients: { efs?: EFSClient; lambda?: LambdaClient; iam?: IAMClient } = {},
): { volumes?: EfsVolumes } {
  const { stage } = config;
  if (!stage.volumes) return {};
  const options = { region: stage.region, maxAttempts: CONTROL_PLANE_ATTEMPTS };
  return {
    volumes: new EfsVolumes({
      efs: clients.efs ?? new EFSClient(options),
      fileSystemId: stage.volumes.fileSystemId,
      stage: stage.stage,
      janitor: new LambdaVolumeJanitor({
        // One attempt: a janitor that timed out is retried by the reconcile, not stacked up by the SDK.
        lambda: clients.lambda ?? new LambdaClient({ region: stage.region, maxAttempts: 1 }),
        functionName: stage.volumes.janitorFunction,
      }),
      roles: new VolumeRoles({
        // IAM is global: its endpoint, whatever the stage's region.
        iam: clients.iam ?? new IAMClient(options),
        stage: stage.stage,
        permissionsBoundaryArn: stage.volumes.roleBoundaryArn,
      }),
    }),
  };
}
export type VolumesPart = ReturnType<typeof volumesPart>;

/** What carries this stage's tags, and the volume directories the janitor finds (their owners written beside them). */
export function inventoryPart(
  config: FunctionSettings,
  clients: { tagging?: ResourceGroupsTaggingAPIClient } = {},
  volumes?: Inventory,
): { inventory: Inventory } {
  const options = { region: config.stage.region, maxAttempts: CONTROL_PLANE_ATTEMPTS };
  const tagged = new TaggingInventory({
    tagging: clients.tagging ?? new ResourceGroupsTaggingAPIClient(options),
    stage: config.stage.stage,
  });
  if (!volumes) return { inventory: tagged };
  return {
    inventory: { listOwned: async () => [...(await tagged.listOwned()), ...(await volumes.listOwned())] },
  };
}
export type InventoryPart = ReturnType<typeof inventoryPart>;

/**
 * `github` mode's sign-in (only when the stage is in it, and so has its OAuth client): the one-time codes in
 * the table, the state key derived from the client secret, and GitHub's OAuth at the stage's GitHub.
 */
export function signInPart(
  config: FunctionSettings,
  base: Pick<BasePart, 'store' | 'settings' | 'clock' | 'log'>,
  clients: { dynamo?: DynamoDBDocumentClient } = {},
): { signIn?: PreviewSignIn; signInRoutes?: SignInDeps } {
  if (!config.oauth) return {};
  const signIn: PreviewSignIn = {
    key: stateKey(config.oauth.clientSecret),
    codes: new DynamoSignInCodes({
      client: clients.dynamo ?? documentClient({ region: config.stage.region }),
      tableName: config.tableName,
    }),
  };
  const github = new GithubOAuth({ ...config.oauth, apiUrl: config.stage.githubApiUrl });
  return { signIn, signInRoutes: { ...signIn, ...base, github } };
}
export type SignInPart = ReturnType<typeof signInPart>;

export function githubPart(config: FunctionSettings) {
  if (!config.github) throw new Error('this function is not linked to the GitHub secrets');
  return { source: new GithubSourceControl({ auth: config.github, baseUrl: config.stage.githubApiUrl }) };
}
export type GithubPart = ReturnType<typeof githubPart>;

/**
 * `.matinee.yml` `build:`: CodeBuild builds the commit's tarball (downloaded by `archive`, the GitHub part,
 * with the installation token, which stays here) into the stage's ECR repository. Absent on a stage deployed
 * without a build project: such a config then fails with a message saying so.
 */
export function buildPart(
  config: FunctionSettings,
  archive: SourceArchive,
  clients: { codebuild?: CodeBuildClient; s3?: S3Client; logs?: CloudWatchLogsClient; ecr?: ECRClient } = {},
): { builder?: CodeBuildImageBuilder } {
  const { stage } = config;
  if (!stage.build) return {};
  const options = { region: stage.region, maxAttempts: CONTROL_PLANE_ATTEMPTS };
  return {
    builder: new CodeBuildImageBuilder({
      codebuild: clients.codebuild ?? new CodeBuildClient(options),
      s3: clients.s3 ?? new S3Client(options),
      logs: clients.logs ?? new CloudWatchLogsClient(options),
      archive,
      stage: stage.stage,
      project: stage.build.project,
      bucket: stage.build.bucket,
      repositoryUrl: stage.build.repositoryUrl,
      images: new EcrImages({
        ecr: clients.ecr ?? new ECRClient(options),
        stage: stage.stage,
        repository: stage.build.repository,
      }),
    }),
  };
}
export type BuildPart = ReturnType<typeof buildPart>;

/** This function's settings from its SST links; secrets beyond `needs` are never read. */
export function linkedSettings(needs: SecretNeeds = {}): FunctionSettings {
  return readSettings(Resource as unknown as Record<string, unknown>, needs);
}

/** Makes a value on first use and keeps it for the Lambda container's life. */
export function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}
