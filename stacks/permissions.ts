/**
 * What each Lambda function may call, as plain data: the stacks hand it to `sst.aws.Function({ permissions })`
 * and tests read it. Links carry names only (see stacks/data.ts), so these statements are a function's whole
 * policy besides CloudWatch Logs.
 *
 * Scoping, action by action, follows the Service Authorization Reference:
 * - Stage resources by name: task definition families are `matinee-<stage>_<slug>` (no stage or slug holds
 *   `_`, so no other stage's family matches `matinee-<stage>_*`; families are account-wide), services
 *   `matinee-<stage>-<slug>` in this stage's own cluster, target groups `mt-<slug>-<hash>`
 *   (packages/core/src/environment/naming.ts), rules live under this stage's listener. Revisions of the
 *   legacy family `matinee-<stage>-<slug>` (what every family was before, and what stage `a`'s `b-x` and stage
 *   `a-b`'s `x` share) may only be deleted, and only with this stage's tag; nothing registers into it.
 * - Tags where the resource surely carries them: `aws:RequestTag/matinee:stage` on every create (the adapters
 *   always tag), `aws:ResourceTag/matinee:stage` on target groups (their names are shared by every stage in the
 *   account) and on deleting inactive task definitions. Not on services, rules or target groups that may be
 *   gone: IAM would answer a missing resource with AccessDenied instead of the not-found error the adapters
 *   treat as "already done".
 * - `"*"` resources only where the action has no resource-level permission: ecs:DeregisterTaskDefinition,
 *   ecs:DescribeTaskDefinition, ecs:ListTaskDefinitions, ecs:ListTasks (limited by ecs:cluster instead),
 *   elasticloadbalancing:Describe*, cloudwatch:GetMetricData, tag:GetResources, iam:ListRoles (the resync asks
 *   for the stage's path only). DeregisterTaskDefinition
 *   cannot be held to the stage by IAM at all; the runtime deregisters only revisions of the environment's own
 *   family, or of the legacy family when their tags name this stage and environment
 *   (packages/aws/src/ecs-task-definitions.ts).
 * Never a `*` in an action.
 */

import { type Condition, type Statement, stageTag } from './iam-statements.ts';
import { ecsCreate, ecsTeardown, elbCreate, elbTeardown } from './runtime-permissions.ts';
import { type StageResources, stagePatterns } from './stage-resources.ts';

export const FUNCTION_NAMES = [
  'github-webhook',
  'wake',
  'reconcile',
  'task-events',
  'sweep',
  'resync',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

function table(r: StageResources): Statement[] {
  return [
    {
      actions: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
        'dynamodb:Scan',
      ],
      resources: [r.tableArn, `${r.tableArn}/index/*`],
    },
  ];
}

function bus(r: StageResources): Statement[] {
  return [{ actions: ['events:PutEvents'], resources: [r.busArn] }];
}

function deadLetters(r: StageResources): Statement[] {
  return [{ actions: ['sqs:SendMessage'], resources: [r.deadLetterQueueArn] }];
}

/**
 * Volumes: finding an environment's access points (DescribeAccessPoints is scoped to the file system) and
 * deleting them, only this stage's; the janitor deletes their data first. The environment's own role goes
 * after them: its policy read (describe), deleted, then the role, under the stage's path only.
 */
function volumesTeardown(r: StageResources): Statement[] {
  const accessPoints = accessPointPattern(r);
  const roles = stagePatterns(r).volumeRoles;
  return [
    { actions: ['elasticfilesystem:DescribeAccessPoints'], resources: [r.fileSystemArn] },
    {
      actions: ['elasticfilesystem:DeleteAccessPoint'],
      resources: [accessPoints],
      conditions: [stageTag('ResourceTag', r.stage)],
    },
    { actions: ['lambda:InvokeFunction'], resources: [r.janitorFunctionArn] },
    // No boundary condition here: a role already gone must answer NoSuchEntity (done), not AccessDenied.
    { actions: ['iam:GetRolePolicy', 'iam:DeleteRolePolicy', 'iam:DeleteRole'], resources: [roles] },
    // IAM refuses a call on a role that does not exist (it authorizes `role/<name>`, outside the path): the
    // adapter then asks the path whether the role is there. ListRoles has no resource-level permission.
    { actions: ['iam:ListRoles'], resources: ['*'] },
  ];
}

/** A role (made, or acted on) carries the stage's permissions boundary. */
const boundedBy = (r: StageResources): Condition => ({
  test: 'StringEquals',
  variable: 'iam:PermissionsBoundary',
  values: [r.volumeRoleBoundaryArn],
});

/**
 * Volumes: an environment's access points, made in this stage's file system and tagged with the stage, and
 * its own role, which alone may mount them. Roles only under the stage's path, only with the stage's
 * permissions boundary (so no role made here can do more than mount volumes, whatever policy it is given),
 * handed only to ECS tasks. Never iam:PutRolePermissionsBoundary or iam:DeleteRolePermissionsBoundary: the
 * boundary a role is made with stays.
 */
function volumesCreate(r: StageResources): Statement[] {
  const roles = stagePatterns(r).volumeRoles;
  const bounded = boundedBy(r);
  return [
    {
      actions: ['elasticfilesystem:CreateAccessPoint'],
      resources: [r.fileSystemArn],
      conditions: [stageTag('RequestTag', r.stage)],
    },
    {
      // Tags given to CreateAccessPoint; never tagging existing ones.
      actions: ['elasticfilesystem:TagResource'],
      resources: [accessPointPattern(r)],
      conditions: [
        { test: 'StringEquals', variable: 'elasticfilesystem:CreateAction', values: ['CreateAccessPoint'] },
        stageTag('RequestTag', r.stage),
      ],
    },
    {
      actions: ['iam:CreateRole'],
      resources: [roles],
      conditions: [bounded, stageTag('RequestTag', r.stage)],
    },
    // The tags CreateRole carries (IAM asks for TagRole beside it), this stage's.
    { actions: ['iam:TagRole'], resources: [roles], conditions: [stageTag('RequestTag', r.stage)] },
    { actions: ['iam:PutRolePolicy'], resources: [roles], conditions: [bounded] },
    {
      actions: ['iam:PassRole'],
      resources: [roles],
      conditions: [
        { test: 'StringEquals', variable: 'iam:PassedToService', values: ['ecs-tasks.amazonaws.com'] },
      ],
    },
  ];
}

const accessPointPattern = (r: StageResources) =>
  `arn:${r.partition}:elasticfilesystem:${r.region}:${r.account}:access-point/*`;

/** Everything `reconcile(env)` may do: the runtime, the router and the volumes (and their roles), both ways. */
function reconcileCloud(r: StageResources): Statement[] {
  return [
    ...ecsTeardown(r),
    ...ecsCreate(r),
    ...elbTeardown(r),
    ...elbCreate(r),
    ...volumesTeardown(r),
    ...volumesCreate(r),
  ];
}

/** What the janitor's mount needs: its own access point of the stage's file system, as root. */
export interface JanitorResources {
  partition: string;
  region: string;
  account: string;
  fileSystemArn: string;
  accessPointArn: string;
}

/**
 * The janitor function's policy: mounting the file system read-write as root, through its access point only
 * (the stage's directory), never the file system's root. Its VPC networking comes from SST
 * (AWSLambdaVPCAccessExecutionRole).
 */
export function janitorPermissions(r: JanitorResources): Statement[] {
  return [
    {
      actions: [
        'elasticfilesystem:ClientMount',
        'elasticfilesystem:ClientWrite',
        'elasticfilesystem:ClientRootAccess',
      ],
      resources: [r.fileSystemArn],
      conditions: [
        { test: 'StringEquals', variable: 'elasticfilesystem:AccessPointArn', values: [r.accessPointArn] },
      ],
    },
  ];
}

/**
 * The permissions boundary of every environment's own role (packages/aws/src/iam-volume-roles.ts), which the
 * control plane may make roles only with: at most mounting and writing this file system through an access
 * point, never the janitor's (the stage's whole directory, as root), never as root. Each role's own policy
 * narrows that to its environment's access points; the boundary holds whatever that policy says.
 */
export function previewVolumeBoundary(r: {
  partition: string;
  region: string;
  account: string;
  fileSystemArn: string;
  janitorAccessPointArn: string;
}): Statement[] {
  return [
    {
      actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
      resources: [r.fileSystemArn],
      conditions: [
        {
          test: 'StringLike',
          variable: 'elasticfilesystem:AccessPointArn',
          values: [`arn:${r.partition}:elasticfilesystem:${r.region}:${r.account}:access-point/fsap-*`],
        },
        {
          test: 'StringNotEquals',
          variable: 'elasticfilesystem:AccessPointArn',
          values: [r.janitorAccessPointArn],
        },
      ],
    },
  ];
}

/** Reading a preview's output for its failed page and the dashboard: this stage's preview log group only. */
function previewLogs(r: StageResources): Statement[] {
  return [{ actions: ['logs:GetLogEvents'], resources: [`${r.previewLogGroupArn}:log-stream:*`] }];
}

/**
 * Building images (CodeBuildImageBuilder): putting a commit's tarball under the bucket's `sources/` (a
 * multipart upload is PutObject to IAM, and aborting one its own action), starting, finding, reading and
 * stopping builds of the stage's project, reading a failed build's log, removing images of the stage's
 * repository.
 */
function builds(r: StageResources): Statement[] {
  return [
    { actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [`${r.build.bucketArn}/sources/*`] },
    {
      actions: [
        'codebuild:StartBuild',
        'codebuild:StopBuild',
        'codebuild:BatchGetBuilds',
        'codebuild:ListBuildsForProject',
      ],
      resources: [r.build.projectArn],
    },
    { actions: ['logs:GetLogEvents'], resources: [`${r.build.logGroupArn}:log-stream:*`] },
    ...images(r),
  ];
}

/** The stage's images: listed and deleted by environment (at its removal, and by the resync). */
function images(r: StageResources): Statement[] {
  return [{ actions: ['ecr:ListImages', 'ecr:BatchDeleteImage'], resources: [r.build.repositoryArn] }];
}

/**
 * Each function's statements. Entry points (webhook, wake, task events, sweep) only record and enqueue;
 * `reconcile` changes the cloud, and `resync` tears down orphans.
 */
export function functionPermissions(r: StageResources): Record<FunctionName, Statement[]> {
  return {
    'github-webhook': [...table(r), ...bus(r)],
    wake: [...table(r), ...bus(r), ...previewLogs(r)],
    // Every function holds the store and the bus; failed events land in the dead-letter queue.
    reconcile: [...table(r), ...bus(r), ...reconcileCloud(r), ...builds(r), ...deadLetters(r)],
    'task-events': [...table(r), ...bus(r), ...deadLetters(r)],
    sweep: [...table(r), ...bus(r), { actions: ['cloudwatch:GetMetricData'], resources: ['*'] }],
    resync: [
      ...table(r),
      ...bus(r),
      { actions: ['tag:GetResources'], resources: ['*'] },
      ...ecsTeardown(r),
      ...elbTeardown(r),
      ...volumesTeardown(r),
      // The environments' roles, found by path (volumesTeardown's ListRoles) and tags.
      { actions: ['iam:ListRoleTags'], resources: [stagePatterns(r).volumeRoles] },
      ...images(r),
    ],
  };
}
