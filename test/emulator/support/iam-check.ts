import { afterAll, expect, inject } from 'vitest';
import type { AwsCallRecorder } from '../../support/aws-call-recorder.ts';
import { type IamRequest, iamRequests } from '../../support/iam-requests.ts';
import { decide } from '../../support/iam-simulation.ts';
import { STAGE } from '../../support/stage.ts';
import {
  type Caller,
  refused,
  relocate,
  type StageIds,
  type StagePolicies,
  stagePolicies,
} from '../../support/stage-policies.ts';
import type { MotoStage } from './moto-stage.ts';

/**
 * IAM, simulated on what moto saw (a setup file of the `emulator` project): every AWS call a deployment on
 * moto made (support/moto-deployment.ts records them, each with the function that made it) is turned into
 * what IAM authorizes (test/support/iam-requests.ts), moved from the moto stage's names into those of stage
 * `test` as the stacks deploy it, and simulated against that function's policies (test/support/
 * stage-policies.ts). After each file: any refused call fails it, and so does a call on the stage's build
 * resources that the same policies would allow on another stage's. Calls made outside every function are the
 * test's own look at (or edit of) the store, and may only be that.
 *
 * The policies are synthesized once per run (the Pulumi-mock harness takes a while) and kept in the file the
 * project's global setup names.
 */
const recorded: { recorder: AwsCallRecorder; moto: MotoStage; tableName: string }[] = [];

/** Simulates everything `recorder` records for this stage once the file's tests are done. */
export function simulateAtEnd(recorder: AwsCallRecorder, moto: MotoStage, tableName: string): void {
  recorded.push({ recorder, moto, tableName });
}

afterAll(async () => {
  if (!recorded.length) return;
  const stage = await stagePolicies(inject('stagePoliciesFile') || undefined);
  const mine = stage.ids;
  const where = { partition: 'aws', region: 'us-east-1', account: '123456789012' };
  const problems: string[] = [];
  for (const { recorder, moto, tableName } of recorded.splice(0)) {
    const own = recorder.calls.filter((call) => !call.caller);
    problems.push(
      ...own
        .filter((call) => call.service !== 'dynamodb')
        .map((call) => `${call.service}:${call.command} made outside any function`),
    );
    const { listenerArn } = moto.settings.loadBalancer;
    const rules = (arn: string) => arn.replace(':listener/', ':listener-rule/');
    const requests = relocate(
      iamRequests(
        recorder.calls.filter((call) => call.caller),
        where,
      ),
      [
        // What iam-requests.ts names the build resources by (their names, in the account of `where`).
        ...buildResources(moto, where, mine),
        [rules(listenerArn), rules(mine.listenerArn)],
        [listenerArn, mine.listenerArn],
        [moto.settings.cluster.arn, mine.clusterArn],
        [`/${moto.settings.cluster.name}/`, `/${mine.clusterName}/`],
        [moto.settings.roles.executionRoleArn, mine.executionRole],
        [moto.settings.roles.taskRoleArn, mine.taskRole],
        [`:table/${tableName}`, `:table/${mine.table}`],
        [`:event-bus/${moto.busName}`, `:event-bus/${mine.bus}`],
        // Families (`matinee-<stage>_<slug>`) and services (`matinee-<stage>-<slug>`), then the stage tag.
        [`matinee-${moto.stage}`, `matinee-${STAGE.stage}`],
        [moto.stage, STAGE.stage],
      ],
    );
    problems.push(...(await refused(requests, stage)));
    problems.push(...(await neighbourBuilds(requests, stage)));
  }
  expect(problems, 'AWS calls on moto that the stage’s IAM policies refuse').toEqual([]);
}, 300_000);

/** The moto stage's build project, bucket, repository and log group, as iam-requests.ts names them → stage `test`'s. */
function buildResources(
  moto: MotoStage,
  where: { partition: string; region: string; account: string },
  mine: StageIds,
): [string, string][] {
  const build = moto.settings.build;
  if (!build) return [];
  const arn = (service: string, resource: string) =>
    `arn:${where.partition}:${service}:${where.region}:${where.account}:${resource}`;
  return [
    [arn('codebuild', `project/${build.project}`), mine.project],
    [`arn:${where.partition}:s3:::${build.bucket}`, mine.bucket],
    [arn('ecr', `repository/${build.repository}`), mine.repository],
    [arn('logs', `log-group:${build.logGroup}`), mine.buildLogGroup],
  ];
}

/**
 * The calls on this stage's build resources, moved onto those of the hardest neighbour (stage `test-x`, whose
 * names start as this one's do), must be denied: a line for each that is allowed.
 */
async function neighbourBuilds(requests: IamRequest[], stage: StagePolicies): Promise<string[]> {
  const mine = stage.ids;
  const other = `${STAGE.stage}-x`;
  const theirs: [string, string][] = [
    [mine.project, mine.project.replace(/project\/.*$/, `project/matinee-${other}`)],
    [mine.bucket, `arn:aws:s3:::matinee-${other}-sources-0123456789ab`],
    [mine.repository, mine.repository.replace(/repository\/.*$/, `repository/matinee-${other}`)],
    [mine.buildLogGroup, mine.buildLogGroup.replace(/log-group:.*$/, `log-group:/matinee/${other}/builds`)],
  ];
  const moved = relocate(
    requests.filter((request) => theirs.some(([id]) => request.resource.startsWith(id))),
    theirs,
  );
  const allowed = new Set<string>();
  for (const request of moved) {
    const role = stage.roles[request.caller as Caller];
    if (role && (await decide(request, role.arn, role.policies)) === 'Allowed')
      allowed.add(`${request.caller}: ${request.action} on ${request.resource}, another stage's → Allowed`);
  }
  return [...allowed];
}
