import { volumeRolePath } from '../packages/aws/src/iam-volume-roles.ts';

/** One stage's resources, as resolved strings, and the ARN patterns of what it creates per environment. */

/** This stage's resources the functions act on, as resolved strings. */
export interface StageResources {
  partition: string;
  region: string;
  account: string;
  stage: string;
  clusterName: string;
  clusterArn: string;
  /** The HTTPS listener whose rules route awake previews. */
  listenerArn: string;
  tableArn: string;
  busArn: string;
  executionRoleArn: string;
  taskRoleArn: string;
  /** Where failed asynchronous invocations of the event-driven functions go. */
  deadLetterQueueArn: string;
  /** The log group every preview container writes to (awslogs), without the trailing `:*`. */
  previewLogGroupArn: string;
  /** The stage's EFS file system, whose access points are the previews' volumes (stacks/volumes.ts). */
  fileSystemArn: string;
  /** The function that deletes volume data, invoked synchronously. */
  janitorFunctionArn: string;
  /** The permissions boundary every environment's own role must carry (stacks/volumes.ts). */
  volumeRoleBoundaryArn: string;
  /** Building images from source (stacks/build.ts): the CodeBuild project, source bucket, ECR repository, log group. */
  build: { projectArn: string; bucketArn: string; repositoryArn: string; logGroupArn: string };
}

/** ARN patterns of what one stage creates per environment. */
export function stagePatterns(r: StageResources) {
  const ecs = `arn:${r.partition}:ecs:${r.region}:${r.account}`;
  const elb = `arn:${r.partition}:elasticloadbalancing:${r.region}:${r.account}`;
  return {
    taskDefinitions: `${ecs}:task-definition/matinee-${r.stage}_*`,
    /** Before families took `_`: shared with stages whose name extends this one's (`<stage>-…`). */
    legacyTaskDefinitions: `${ecs}:task-definition/matinee-${r.stage}-*`,
    services: `${ecs}:service/${r.clusterName}/matinee-${r.stage}-*`,
    tasks: `${ecs}:task/${r.clusterName}/*`,
    targetGroups: `${elb}:targetgroup/mt-*`,
    rules: `${r.listenerArn.replace(':listener/', ':listener-rule/')}/*`,
    /** Environments' own roles (packages/aws/src/iam-volume-roles.ts): `/matinee/<stage>/` ends at the slash. */
    volumeRoles: volumeRolePattern(r),
  };
}

/** The ARN pattern of a stage's environment roles (the path volumeRolePath gives them). */
export const volumeRolePattern = (r: { partition: string; account: string; stage: string }) =>
  `arn:${r.partition}:iam::${r.account}:role${volumeRolePath(r.stage)}*`;
