import { randomBytes } from 'node:crypto';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient, CreateProjectCommand } from '@aws-sdk/client-codebuild';
import { CreateRepositoryCommand, ECRClient } from '@aws-sdk/client-ecr';
import { CreateClusterCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { BUILDSPEC, MATINEE_EVENT_SOURCE, RECONCILE_REQUESTED } from '@matinee/aws';
import type { StageSettings } from '../../../functions/lib/settings.ts';
import { MotoQueue, MotoRaw } from './moto-raw.ts';

export const REGION = 'us-east-1';
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** The SDK clients the adapters take, pointed at moto, each call recorded as `Service:Command`. */
export interface MotoClients {
  ecs: ECSClient;
  elb: ElasticLoadBalancingV2Client;
  cloudwatch: CloudWatchClient;
  eventbridge: EventBridgeClient;
  tagging: ResourceGroupsTaggingAPIClient;
  /** Building images (stacks/build.ts): the project, the sources bucket, the repository, the build log. */
  codebuild: CodeBuildClient;
  s3: S3Client;
  ecr: ECRClient;
  logs: CloudWatchLogsClient;
}

/** A client for moto; `record` hears `Service:Command` of every call sent through it. */
export function motoClient<C extends { middlewareStack: { add: (...args: never[]) => void } }>(
  make: new (config: object) => C,
  endpoint: string,
  label?: { name: string; record: (call: string) => void },
): C {
  // S3 by path (`<endpoint>/<bucket>/<key>`): moto's server has no bucket host names.
  const client = new make({ endpoint, region: REGION, credentials, maxAttempts: 1, forcePathStyle: true });
  if (label) {
    const add = client.middlewareStack.add as unknown as (
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ) => void;
    add(
      (next, context) => (args) => {
        label.record(`${label.name}:${(context.commandName ?? '?').replace(/Command$/, '')}`);
        return next(args);
      },
      { step: 'initialize', name: 'recordCall' },
    );
  }
  return client;
}

/**
 * What the stacks make for one stage (stacks/network.ts, edge.ts, cluster.ts, data.ts, build.ts,
 * functions.ts), made on moto: a VPC with two subnets and the ALB's and tasks' security groups; the ALB with
 * its HTTPS listener (certificate from ACM) whose default action forwards to the wake function's target group,
 * and the HTTP redirect; the cluster with FARGATE and FARGATE_SPOT; the image repository, sources bucket,
 * build log group and CodeBuild project; Matinee's bus and the four EventBridge rules with the stacks'
 * patterns, each delivering to a queue that stands in for the function it invokes.
 *
 * Every stage gets its own names (`emu-<hex>`), so tests share one moto server the way stages share an
 * account: nothing of one is visible to another's tag filters, listener or cluster.
 */
export interface MotoStage {
  endpoint: string;
  stage: string;
  settings: StageSettings;
  busName: string;
  raw: MotoRaw;
  /** Uninstrumented clients, for the test's own reads of what moto holds. */
  admin: MotoClients;
  loadBalancerArn: string;
  wakeTargetGroupArn: string;
  /** Delivered to the reconcile function: `environment.reconcile-requested` on Matinee's bus. */
  reconcileQueue: MotoQueue;
  /** Delivered to the task-events function: the ECS events of this stage's cluster on the default bus. */
  taskEventsQueue: MotoQueue;
}

export async function motoStage(
  endpoint: string,
  options: { domain?: string; maxAwake?: number; access?: StageSettings['access']['mode'] } = {},
): Promise<MotoStage> {
  const stage = `emu-${randomBytes(4).toString('hex')}`;
  const domain = options.domain ?? 'preview.example.com';
  const raw = new MotoRaw(endpoint, REGION);
  const admin: MotoClients = {
    ecs: motoClient(ECSClient, endpoint),
    elb: motoClient(ElasticLoadBalancingV2Client, endpoint),
    cloudwatch: motoClient(CloudWatchClient, endpoint),
    eventbridge: motoClient(EventBridgeClient, endpoint),
    tagging: motoClient(ResourceGroupsTaggingAPIClient, endpoint),
    codebuild: motoClient(CodeBuildClient, endpoint),
    s3: motoClient(S3Client, endpoint),
    ecr: motoClient(ECRClient, endpoint),
    logs: motoClient(CloudWatchLogsClient, endpoint),
  };

  // stacks/network.ts: a VPC over two availability zones, the ALB's and the tasks' security groups.
  const ec2 = (params: Record<string, string>) => raw.query('ec2', { Version: '2016-11-15', ...params });
  const vpcId = MotoRaw.xml(await ec2({ Action: 'CreateVpc', CidrBlock: '10.0.0.0/16' }), 'vpcId');
  const subnets: string[] = [];
  for (const [index, zone] of ['a', 'b'].entries()) {
    const answer = await ec2({
      Action: 'CreateSubnet',
      VpcId: vpcId,
      CidrBlock: `10.0.${index}.0/24`,
      AvailabilityZone: `${REGION}${zone}`,
    });
    subnets.push(MotoRaw.xml(answer, 'subnetId'));
  }
  const group = async (name: string) =>
    MotoRaw.xml(
      await ec2({
        Action: 'CreateSecurityGroup',
        VpcId: vpcId,
        GroupName: `${stage}-${name}`,
        GroupDescription: name,
      }),
      'groupId',
    );
  const albGroup = await group('alb');
  const taskGroup = await group('tasks');

  // stacks/edge.ts: the certificate, the ALB, the wake function's target group, HTTPS and HTTP listeners.
  const { CertificateArn } = await raw.json<{ CertificateArn: string }>(
    'acm',
    'CertificateManager.RequestCertificate',
    { DomainName: `*.${domain}`, SubjectAlternativeNames: [domain], ValidationMethod: 'DNS' },
  );
  const { LoadBalancers } = await admin.elb.send(
    new CreateLoadBalancerCommand({
      Name: `matinee-${stage}`,
      Type: 'application',
      Scheme: 'internet-facing',
      Subnets: subnets,
      SecurityGroups: [albGroup],
      Tags: [{ Key: 'Name', Value: `matinee-${stage}` }],
    }),
  );
  const loadBalancerArn = LoadBalancers?.[0]?.LoadBalancerArn ?? '';
  const { TargetGroups } = await admin.elb.send(
    new CreateTargetGroupCommand({ Name: `${stage}-wake`, TargetType: 'lambda' }),
  );
  const wakeTargetGroupArn = TargetGroups?.[0]?.TargetGroupArn ?? '';
  const { Listeners } = await admin.elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: loadBalancerArn,
      Port: 443,
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      Certificates: [{ CertificateArn }],
      DefaultActions: [{ Type: 'forward', TargetGroupArn: wakeTargetGroupArn }],
    }),
  );
  await admin.elb.send(
    new CreateListenerCommand({
      LoadBalancerArn: loadBalancerArn,
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
      ],
    }),
  );
  const listenerArn = Listeners?.[0]?.ListenerArn ?? '';

  // stacks/cluster.ts: the cluster with both Fargate capacity providers.
  const { cluster } = await admin.ecs.send(
    new CreateClusterCommand({
      clusterName: `matinee-${stage}`,
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      settings: [{ name: 'containerInsights', value: 'disabled' }],
    }),
  );
  const clusterArn = cluster?.clusterArn ?? '';

  // stacks/data.ts and functions.ts: the bus and the rules (same patterns), queues in the functions' place.
  const busName = `matinee-${stage}`;
  await admin.eventbridge.send(new CreateEventBusCommand({ Name: busName }));
  const reconcileQueue = await MotoQueue.create(raw, `${stage}-reconcile`);
  const taskEventsQueue = await MotoQueue.create(raw, `${stage}-task-events`);
  const rules: [string, string | undefined, unknown, MotoQueue][] = [
    [
      'reconcile-requested',
      busName,
      { source: [MATINEE_EVENT_SOURCE], 'detail-type': [RECONCILE_REQUESTED] },
      reconcileQueue,
    ],
    [
      'task-state-changed',
      undefined,
      {
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        detail: { clusterArn: [clusterArn], lastStatus: ['STOPPED'] },
      },
      taskEventsQueue,
    ],
    [
      'build-state-changed',
      undefined,
      {
        source: ['aws.codebuild'],
        'detail-type': ['CodeBuild Build State Change'],
        detail: { 'project-name': [`matinee-${stage}`] },
      },
      taskEventsQueue,
    ],
    [
      'service-steady',
      undefined,
      {
        source: ['aws.ecs'],
        'detail-type': ['ECS Service Action'],
        detail: {
          clusterArn: [clusterArn],
          eventName: ['SERVICE_STEADY_STATE', 'SERVICE_TASK_PLACEMENT_FAILURE'],
        },
      },
      taskEventsQueue,
    ],
  ];
  for (const [name, eventBusName, pattern, queue] of rules) {
    const ruleName = `${stage}-${name}`;
    await admin.eventbridge.send(
      new PutRuleCommand({
        Name: ruleName,
        EventBusName: eventBusName,
        EventPattern: JSON.stringify(pattern),
      }),
    );
    await admin.eventbridge.send(
      new PutTargetsCommand({
        Rule: ruleName,
        EventBusName: eventBusName,
        Targets: [{ Id: 'function', Arn: queue.arn }],
      }),
    );
  }

  const account = /^arn:aws:ecs:[^:]+:(\d+):/.exec(clusterArn)?.[1] ?? '123456789012';

  // stacks/build.ts: the repository, the sources bucket, the build log group and the project (moto's
  // NO_SOURCE project needs a location; its service role is not checked).
  const build = {
    project: `matinee-${stage}`,
    bucket: `matinee-${stage}-sources`,
    repository: `matinee-${stage}`,
    repositoryUrl: '',
    logGroup: `/matinee/${stage}/builds`,
  };
  const { repository } = await admin.ecr.send(
    new CreateRepositoryCommand({ repositoryName: build.repository }),
  );
  build.repositoryUrl = repository?.repositoryUri ?? '';
  await admin.s3.send(new CreateBucketCommand({ Bucket: build.bucket }));
  await admin.logs.send(new CreateLogGroupCommand({ logGroupName: build.logGroup }));
  await createBuildProject(
    admin.codebuild,
    build.project,
    `arn:aws:iam::${account}:role/matinee-${stage}-build`,
  );
  const settings: StageSettings = {
    stage,
    domain,
    region: REGION,
    cluster: { name: `matinee-${stage}`, arn: clusterArn },
    loadBalancer: {
      fullName: /:loadbalancer\/(app\/.+)$/.exec(loadBalancerArn)?.[1] ?? '',
      listenerArn,
    },
    network: { vpcId, subnets, securityGroups: [taskGroup], assignPublicIp: true },
    roles: {
      executionRoleArn: `arn:aws:iam::${account}:role/matinee-${stage}-execution`,
      taskRoleArn: `arn:aws:iam::${account}:role/matinee-${stage}-task`,
    },
    logGroup: `/matinee/${stage}/previews`,
    // Public unless the test is about access control: the lifecycle opens previews without their links.
    access: { mode: options.access ?? 'public' },
    maxAwake: options.maxAwake ?? 90,
    build,
  };
  return {
    endpoint,
    stage,
    settings,
    busName,
    raw,
    admin,
    loadBalancerArn,
    wakeTargetGroupArn,
    reconcileQueue,
    taskEventsQueue,
  };
}

/** The stage's CodeBuild project as stacks/build.ts makes it: no source (the buildspec fetches the tarball). */
export async function createBuildProject(codebuild: CodeBuildClient, name: string, serviceRole: string) {
  await codebuild.send(
    new CreateProjectCommand({
      name,
      source: { type: 'NO_SOURCE', buildspec: BUILDSPEC, location: 'none' },
      artifacts: { type: 'NO_ARTIFACTS' },
      environment: {
        type: 'LINUX_CONTAINER',
        computeType: 'BUILD_GENERAL1_SMALL',
        image: 'aws/codebuild/amazonlinux-x86_64-standard:5.0',
        privilegedMode: true,
      },
      serviceRole,
    }),
  );
}
