import { ECR_PULL_ACTIONS, ecrPullResources } from './image-pulls.ts';
import type { StageInput } from './settings.ts';

/** The account, region and partition this stage deploys into. */
export function awsContext() {
  return {
    partition: aws.getPartitionOutput().partition,
    region: aws.getRegionOutput().region,
    account: aws.getCallerIdentityOutput().accountId,
  };
}
export type AwsContext = ReturnType<typeof awsContext>;

export interface Cluster {
  cluster: aws.ecs.Cluster;
  executionRole: aws.iam.Role;
  taskRole: aws.iam.Role;
  logGroup: aws.cloudwatch.LogGroup;
}

const LOG_RETENTION_DAYS = 14;

function assumedByEcsTasks() {
  return aws.iam.getPolicyDocumentOutput({
    statements: [
      {
        actions: ['sts:AssumeRole'],
        principals: [{ type: 'Service', identifiers: ['ecs-tasks.amazonaws.com'] }],
      },
    ],
  }).json;
}

/**
 * Where previews run: one ECS cluster offering FARGATE and FARGATE_SPOT, the role ECS uses to pull images
 * and write logs, the role the previews' containers get (no permissions: a preview is untrusted code from a
 * pull request), and the log group every container writes to.
 */
export function cluster(input: StageInput, context: AwsContext): Cluster {
  const cluster = new aws.ecs.Cluster('MatineeCluster', {
    settings: [{ name: 'containerInsights', value: 'disabled' }],
  });
  new aws.ecs.ClusterCapacityProviders('MatineeCapacityProviders', {
    clusterName: cluster.name,
    capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
  });

  const logGroup = new aws.cloudwatch.LogGroup('MatineePreviewLogs', {
    name: `/matinee/${input.stage}/previews`,
    retentionInDays: LOG_RETENTION_DAYS,
  });

  const { partition, region, account } = context;
  const pullable = $util
    .all([partition, region, account])
    .apply(([partition, region, account]) =>
      ecrPullResources(input.stage, input.ecrRepositories, { partition, region, account }),
    );
  const executionRole = new aws.iam.Role('MatineeTaskExecutionRole', {
    description: `Matinee ${input.stage}: ECS pulls preview images and writes their logs`,
    assumeRolePolicy: assumedByEcsTasks(),
    inlinePolicies: [
      {
        name: 'pull-images-and-write-logs',
        policy: aws.iam.getPolicyDocumentOutput({
          statements: [
            // Has no resource-level permissions; the token alone pulls nothing.
            { actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
            {
              // The stage's own repositories and those MATINEE_ECR_REPOSITORIES lists, no others.
              actions: [...ECR_PULL_ACTIONS],
              resources: pullable,
            },
            {
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [logGroup.arn, $interpolate`${logGroup.arn}:*`],
            },
          ],
        }).json,
      },
    ],
  });

  const taskRole = new aws.iam.Role('MatineePreviewTaskRole', {
    description: `Matinee ${input.stage}: what preview containers without volumes may call on AWS: nothing (those with volumes run as roles of their own)`,
    assumeRolePolicy: assumedByEcsTasks(),
  });

  return { cluster, executionRole, taskRole, logGroup };
}
