import { beforeAll, describe, expect, it } from 'vitest';
import { stageSettingsSchema } from '../../functions/lib/settings.ts';
import { BUILDSPEC, CACHE_TAG_PREFIX } from '../../packages/aws/src/codebuild-buildspec.ts';
import { ACCOUNT, type Deployment, deploy, one, platformInstalled, REGION } from './sst-harness.ts';

/**
 * Building from source on AWS, as the real sst.config.ts declares it (Pulumi's mocks, sst-harness.ts): the
 * stage's ECR repository, the source bucket, the CodeBuild project and its role, and the rule that brings
 * build state back. Stage `demo` with MATINEE_BUILD_COMPUTE set.
 */
let d: Deployment;

beforeAll(async () => {
  if (!platformInstalled())
    throw new Error(
      'SST platform missing: run `npm run sst:install` (offline, ~40 s) before the infra tests',
    );
  d = await deploy({
    stage: 'demo',
    env: {
      MATINEE_DOMAIN: 'preview.example.com',
      MATINEE_HOSTED_ZONE: 'example.com',
      MATINEE_BUILD_COMPUTE: 'BUILD_GENERAL1_MEDIUM',
    },
    secrets: { GithubWebhookSecret: 'webhook-secret', GithubToken: 'github_pat_test' },
  });
}, 120_000);

const state = (type: string, name: string) => one(d, type, name).state;
const repository = () => state('aws:ecr/repository:Repository', 'MatineeImages');
const bucket = () => state('aws:s3/bucket:Bucket', 'MatineeBuildSources');
const project = () => state('aws:codebuild/project:Project', 'MatineeBuild');
const role = () => one(d, 'aws:iam/role:Role', 'MatineeBuildRole');
type Statement = { Effect: string; Action: string[]; Resource: string[]; Condition?: unknown };
const roleStatements = (): Statement[] =>
  role().inputs.inlinePolicies.flatMap((p: { policy: string }) => JSON.parse(p.policy).Statement);

describe('the image repository', () => {
  it('is matinee-<stage>, which the task execution role pulls from, and scans every push', () => {
    expect(repository()).toMatchObject({
      name: 'matinee-demo',
      imageScanningConfiguration: { scanOnPush: true },
      forceDelete: true,
      tags: { 'matinee:stage': 'demo' },
    });
    const execution = one(d, 'aws:iam/role:Role', 'MatineeTaskExecutionRole');
    const pulls = JSON.parse(execution.inputs.inlinePolicies[0].policy).Statement.find((s: Statement) =>
      s.Action.includes('ecr:BatchGetImage'),
    );
    expect(pulls.Resource).toContain(repository().arn);
  });

  it('keeps image tags immutable except the layer caches', () => {
    expect(repository().imageTagMutability).toBe('IMMUTABLE_WITH_EXCLUSION');
    expect(repository().imageTagMutabilityExclusionFilters).toEqual([
      { filter: `${CACHE_TAG_PREFIX}*`, filterType: 'WILDCARD' },
    ]);
  });

  it('expires untagged images after a day', () => {
    const policy = state('aws:ecr/lifecyclePolicy:LifecyclePolicy', 'MatineeImagesLifecycle');
    expect(policy.repository).toBe(repository().name);
    expect(JSON.parse(policy.policy).rules).toEqual([
      expect.objectContaining({
        selection: {
          tagStatus: 'untagged',
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: 1,
        },
        action: { type: 'expire' },
      }),
    ]);
  });
});

describe('the source bucket', () => {
  it('is private, encrypted, and forgets every object after a day', () => {
    expect(bucket().bucket).toMatch(/^matinee-demo-sources-/);
    expect(
      state('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', 'MatineeBuildSourcesPrivate'),
    ).toMatchObject({
      bucket: bucket().bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(
      state(
        'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
        'MatineeBuildSourcesEncryption',
      ).rules[0].applyServerSideEncryptionByDefault,
    ).toEqual({ sseAlgorithm: 'AES256' });
    const [rule, ...others] = state(
      'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
      'MatineeBuildSourcesExpiry',
    ).rules;
    expect(others).toEqual([]);
    expect(rule).toMatchObject({
      status: 'Enabled',
      filter: { prefix: '' },
      expiration: { days: 1 },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
    });
  });

  it('refuses every request without TLS', () => {
    const policy = state('aws:s3/bucketPolicy:BucketPolicy', 'MatineeBuildSourcesTlsOnly');
    expect(policy.bucket).toBe(bucket().bucket);
    expect(JSON.parse(policy.policy).Statement).toEqual([
      {
        Sid: 'TlsOnly',
        Effect: 'Deny',
        Principal: { '*': '*' },
        Action: ['s3:*'],
        Resource: [bucket().arn, `${bucket().arn}/*`],
        Condition: { Bool: { 'aws:SecureTransport': ['false'] } },
      },
    ]);
  });
});

describe('the CodeBuild project', () => {
  it('builds on privileged Linux of the compute type MATINEE_BUILD_COMPUTE names, with the buildspec', () => {
    expect(project()).toMatchObject({
      name: 'matinee-demo',
      serviceRole: role().state.arn,
      source: { type: 'NO_SOURCE', buildspec: BUILDSPEC },
      artifacts: { type: 'NO_ARTIFACTS' },
      environment: {
        type: 'LINUX_CONTAINER',
        computeType: 'BUILD_GENERAL1_MEDIUM',
        privilegedMode: true,
        environmentVariables: [
          { name: 'SOURCE_BUCKET', value: bucket().bucket, type: 'PLAINTEXT' },
          { name: 'REPOSITORY', value: repository().repositoryUrl, type: 'PLAINTEXT' },
        ],
      },
      logsConfig: { cloudwatchLogs: { status: 'ENABLED', groupName: '/matinee/demo/builds' } },
      buildTimeout: 60,
    });
    // No secret of any kind reaches the build.
    expect(JSON.stringify(project().environment)).not.toMatch(/PARAMETER_STORE|SECRETS_MANAGER|token/i);
  });

  it('runs as a role only this project may assume', () => {
    const trust = JSON.parse(role().inputs.assumeRolePolicy).Statement;
    expect(trust).toEqual([
      {
        Effect: 'Allow',
        Action: ['sts:AssumeRole'],
        Principal: { Service: 'codebuild.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': [ACCOUNT] },
          ArnEquals: { 'aws:SourceArn': [`arn:aws:codebuild:${REGION}:${ACCOUNT}:project/matinee-demo`] },
        },
      },
    ]);
  });

  it('may read its sources, push to the stage repository and write its log group, nothing more', () => {
    const logs = state('aws:cloudwatch/logGroup:LogGroup', 'MatineeBuildLogs');
    expect(logs.retentionInDays).toBe(14);
    expect(roleStatements()).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [logs.arn, `${logs.arn}:*`],
      },
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`${bucket().arn}/sources/*`] },
      { Effect: 'Allow', Action: ['ecr:GetAuthorizationToken'], Resource: ['*'] },
      expect.objectContaining({ Effect: 'Allow', Resource: [repository().arn] }),
    ]);
    const push = roleStatements()[3]?.Action ?? [];
    expect(push).toEqual(
      expect.arrayContaining(['ecr:PutImage', 'ecr:CompleteLayerUpload', 'ecr:BatchGetImage']),
    );
    expect(push.filter((action) => /Delete|Policy|Tag|Create(Repository)/.test(action))).toEqual([]);
  });
});

describe('build state', () => {
  it("comes back to task-events for this stage's project only", () => {
    const rule = state('aws:cloudwatch/eventRule:EventRule', 'MatineeBuildStateChanged');
    expect(rule.eventBusName).toBeUndefined();
    expect(JSON.parse(rule.eventPattern)).toEqual({
      source: ['aws.codebuild'],
      'detail-type': ['CodeBuild Build State Change'],
      detail: { 'project-name': ['matinee-demo'] },
    });
    expect(state('aws:cloudwatch/eventTarget:EventTarget', 'MatineeBuildEventsTarget')).toMatchObject({
      rule: rule.name,
      arn: state('aws:lambda/function:Function', 'MatineeTaskEventsFunction').arn,
    });
  });

  it('and the functions know the project, bucket, repository and log group', () => {
    const linked = d.builds.find((b) => b.handler.includes('reconcile'))?.links.MatineeSettings;
    expect(stageSettingsSchema.parse(linked).build).toEqual({
      project: 'matinee-demo',
      bucket: bucket().bucket,
      repository: 'matinee-demo',
      repositoryUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/matinee-demo`,
      logGroup: '/matinee/demo/builds',
    });
  });
});
