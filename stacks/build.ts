import {
  BUILD_SOURCE_PREFIX,
  BUILDSPEC,
  CACHE_TAG_PREFIX,
  PROJECT_VARIABLES,
} from '../packages/aws/src/codebuild-buildspec.ts';
import type { AwsContext } from './cluster.ts';
import { TAG_STAGE } from './iam-statements.ts';
import type { StageInput } from './settings.ts';

/**
 * Building images from source (`.matinee.yml` `build:`): the stage's ECR repository, the bucket the control
 * plane puts each commit's tarball in, the CodeBuild project that builds it, and the role that project runs
 * as. Pure names and policies are in packages/aws/src/codebuild-buildspec.ts and stacks/permissions.ts.
 */
export interface Build {
  repository: aws.ecr.Repository;
  bucket: aws.s3.Bucket;
  project: aws.codebuild.Project;
  role: aws.iam.Role;
  logGroup: aws.cloudwatch.LogGroup;
}

/** The stage's image repository: `matinee-<stage>`, which the task execution role already pulls from. */
export const repositoryName = (stage: string) => `matinee-${stage}`;
/** The CodeBuild project: named, so that policies and the event rule can name it before it exists. */
export const projectName = (stage: string) => `matinee-${stage}`;

/** A build that has not finished in an hour has gone wrong; one queued for 8 hours will not start. */
const BUILD_TIMEOUT_MINUTES = 60;
const QUEUED_TIMEOUT_MINUTES = 480;
const LOG_RETENTION_DAYS = 14;
/** Amazon Linux 2023 with Docker and buildx; x86-64, as Fargate runs previews. */
const BUILD_IMAGE = 'aws/codebuild/amazonlinux-x86_64-standard:5.0';

export function build(input: StageInput, context: AwsContext): Build {
  const { stage } = input;
  const tags = { [TAG_STAGE]: stage };

  const repository = new aws.ecr.Repository('MatineeImages', {
    name: repositoryName(stage),
    imageScanningConfiguration: { scanOnPush: true },
    // An image tag, once pushed, names that commit's image for good; only the layer caches move.
    imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
    imageTagMutabilityExclusionFilters: [{ filter: `${CACHE_TAG_PREFIX}*`, filterType: 'WILDCARD' }],
    encryptionConfigurations: [{ encryptionType: 'AES256' }],
    // Every image in it is derived from a commit and rebuilt on demand.
    forceDelete: true,
    tags,
  });
  new aws.ecr.LifecyclePolicy('MatineeImagesLifecycle', {
    repository: repository.name,
    policy: JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          description: 'untagged images (replaced caches, failed pushes) expire after a day',
          selection: {
            tagStatus: 'untagged',
            countType: 'sinceImagePushed',
            countUnit: 'days',
            countNumber: 1,
          },
          action: { type: 'expire' },
        },
      ],
    }),
  });

  const bucket = new aws.s3.Bucket('MatineeBuildSources', {
    bucketPrefix: `matinee-${stage}-sources-`,
    // Objects are a day's commit tarballs: nothing to keep when the stage goes.
    forceDestroy: true,
    tags,
  });
  new aws.s3.BucketPublicAccessBlock('MatineeBuildSourcesPrivate', {
    bucket: bucket.id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  new aws.s3.BucketServerSideEncryptionConfiguration('MatineeBuildSourcesEncryption', {
    bucket: bucket.id,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' }, bucketKeyEnabled: true }],
  });
  new aws.s3.BucketLifecycleConfiguration('MatineeBuildSourcesExpiry', {
    bucket: bucket.id,
    rules: [
      {
        id: 'sources-expire',
        status: 'Enabled',
        filter: { prefix: '' },
        expiration: { days: 1 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
    ],
  });
  new aws.s3.BucketPolicy('MatineeBuildSourcesTlsOnly', {
    bucket: bucket.id,
    policy: aws.iam.getPolicyDocumentOutput({
      statements: [
        {
          sid: 'TlsOnly',
          effect: 'Deny',
          principals: [{ type: '*', identifiers: ['*'] }],
          actions: ['s3:*'],
          resources: [bucket.arn, $interpolate`${bucket.arn}/*`],
          conditions: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
      ],
    }).json,
  });

  const logGroup = new aws.cloudwatch.LogGroup('MatineeBuildLogs', {
    name: `/matinee/${stage}/builds`,
    retentionInDays: LOG_RETENTION_DAYS,
    tags,
  });

  const { partition, region, account } = context;
  const projectArn = $interpolate`arn:${partition}:codebuild:${region}:${account}:project/${projectName(stage)}`;
  const role = new aws.iam.Role('MatineeBuildRole', {
    description: `Matinee ${stage}: CodeBuild reads a commit's source, pushes its image, writes the build log`,
    assumeRolePolicy: aws.iam.getPolicyDocumentOutput({
      statements: [
        {
          actions: ['sts:AssumeRole'],
          principals: [{ type: 'Service', identifiers: ['codebuild.amazonaws.com'] }],
          // Only this stage's project may assume it (no confused deputy).
          conditions: [
            { test: 'StringEquals', variable: 'aws:SourceAccount', values: [account] },
            { test: 'ArnEquals', variable: 'aws:SourceArn', values: [projectArn] },
          ],
        },
      ],
    }).json,
    inlinePolicies: [
      {
        name: 'build-and-push',
        policy: $resolve([bucket.arn, repository.arn, logGroup.arn]).apply(([bucketArn, repoArn, logArn]) =>
          JSON.stringify({
            Version: '2012-10-17',
            Statement: buildRoleStatements(bucketArn, repoArn, logArn),
          }),
        ),
      },
    ],
    tags,
  });

  const project = new aws.codebuild.Project(
    'MatineeBuild',
    {
      name: projectName(stage),
      description: `Matinee ${stage}: builds preview images from a commit's tarball`,
      serviceRole: role.arn,
      source: { type: 'NO_SOURCE', buildspec: BUILDSPEC },
      artifacts: { type: 'NO_ARTIFACTS' },
      environment: {
        type: 'LINUX_CONTAINER',
        computeType: input.build.computeType,
        image: BUILD_IMAGE,
        imagePullCredentialsType: 'CODEBUILD',
        // Docker inside the build.
        privilegedMode: true,
        environmentVariables: [
          { name: PROJECT_VARIABLES.bucket, value: bucket.bucket, type: 'PLAINTEXT' },
          { name: PROJECT_VARIABLES.repository, value: repository.repositoryUrl, type: 'PLAINTEXT' },
        ],
      },
      logsConfig: {
        cloudwatchLogs: { status: 'ENABLED', groupName: logGroup.name },
        s3Logs: { status: 'DISABLED' },
      },
      buildTimeout: BUILD_TIMEOUT_MINUTES,
      queuedTimeout: QUEUED_TIMEOUT_MINUTES,
      tags,
    },
    // IAM is eventually consistent: CodeBuild checks the role can be assumed when the project is made.
    { dependsOn: [role] },
  );

  return { repository, bucket, project, role, logGroup };
}

/**
 * What a build may do: read the sources under its prefix, pull and push the stage's repository (its own
 * caches and the tags it checks), write its log. Nothing else of the account.
 */
export function buildRoleStatements(bucketArn: string, repositoryArn: string, logGroupArn: string) {
  return [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: [logGroupArn, `${logGroupArn}:*`],
    },
    { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`${bucketArn}/${BUILD_SOURCE_PREFIX}*`] },
    // No resource-level permission; the token alone pulls or pushes nothing.
    { Effect: 'Allow', Action: ['ecr:GetAuthorizationToken'], Resource: ['*'] },
    {
      Effect: 'Allow',
      Action: [
        'ecr:BatchCheckLayerAvailability',
        'ecr:BatchGetImage',
        'ecr:GetDownloadUrlForLayer',
        'ecr:InitiateLayerUpload',
        'ecr:UploadLayerPart',
        'ecr:CompleteLayerUpload',
        'ecr:PutImage',
      ],
      Resource: [repositoryArn],
    },
  ];
}
