import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { FUNCTION_NAMES, type FunctionName } from '../../stacks/permissions.ts';
import { deployedResources, COMPONENT as FUNCTION_COMPONENT } from '../infra/deployed-stage.ts';
import { deploy, one, platformInstalled, policies } from '../infra/sst-harness.ts';
import type { IamRequest } from './iam-requests.ts';
import { decide } from './iam-simulation.ts';
import { STAGE } from './stage.ts';

/**
 * The policies the real sst.config.ts gives each function's role (and CodeBuild's, for what a build does
 * itself), for stage `test`, synthesized by the Pulumi-mock harness (test/infra/sst-harness.ts), and what IAM
 * says to recorded requests under them. Shared by test/infra/iam-simulated.test.ts (a life on the fake) and
 * the emulator suite (lives on moto), whose requests are first moved into this stage's ARNs with `relocate`.
 */

/** The deployed stage's identifiers, by what they are. */
export interface StageIds {
  clusterArn: string;
  clusterName: string;
  listenerArn: string;
  table: string;
  bus: string;
  executionRole: string;
  taskRole: string;
  /** The stage's EFS file system and its volume janitor function. */
  fileSystem: string;
  janitor: string;
  /** Building images (stacks/build.ts): the CodeBuild project, sources bucket, image repository, build log group. */
  project: string;
  bucket: string;
  repository: string;
  buildLogGroup: string;
  /** The permissions boundary the environments' own roles are made with. */
  roleBoundary: string;
}

/** Whose calls are simulated: each function's role, and `build`, CodeBuild's role for the stage's builds. */
export type Caller = FunctionName | 'build';

export interface StagePolicies {
  ids: StageIds;
  roles: Record<Caller, { arn: string; policies: { name: string; policy: unknown }[] }>;
}

const COMPONENT: Record<Caller, string> = { ...FUNCTION_COMPONENT, build: 'MatineeBuild' };

/**
 * Deploys stage `test` with Pulumi's mocks and reads its roles' inline policies. With `cache`, a file that
 * holds them already is read instead (the emulator suite deploys once per run, not once per file).
 */
export async function stagePolicies(cache?: string): Promise<StagePolicies> {
  if (cache && existsSync(cache)) return JSON.parse(await readFile(cache, 'utf8')) as StagePolicies;
  if (!platformInstalled())
    throw new Error('SST platform missing: run `npm run sst:install` (offline, ~40 s) before IAM simulation');
  // The fake's and the emulator's resources carry stage `test` once relocated, so deploy that stage.
  const d = await deploy({
    stage: STAGE.stage,
    env: { MATINEE_DOMAIN: STAGE.domain, MATINEE_HOSTED_ZONE: 'example.com' },
    secrets: { GithubWebhookSecret: 'webhook-secret', GithubToken: 'github_pat_test' },
  });
  const state = (type: string, name: string) => one(d, type, name).state;
  const stage = deployedResources(d, STAGE.stage);
  // The last part of a table's (`table/<name>`) or a bus's (`event-bus/<name>`) ARN.
  const nameOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
  const all = policies(d);
  const roles = Object.fromEntries(
    [...FUNCTION_NAMES, 'build' as const].map((name) => [
      name,
      {
        arn: state('aws:iam/role:Role', `${COMPONENT[name]}Role`).arn as string,
        policies: all
          .filter((p) => p.resource === `${COMPONENT[name]}Role` && p.kind.startsWith('inline'))
          .map((p) => ({ name: p.kind, policy: p.document })),
      },
    ]),
  ) as StagePolicies['roles'];
  const result: StagePolicies = {
    ids: {
      clusterArn: stage.clusterArn,
      clusterName: stage.clusterName,
      listenerArn: stage.listenerArn,
      table: nameOf(stage.tableArn),
      bus: nameOf(stage.busArn),
      executionRole: stage.executionRoleArn,
      taskRole: stage.taskRoleArn,
      fileSystem: stage.fileSystemArn,
      janitor: stage.janitorFunctionArn,
      project: stage.build.projectArn,
      bucket: stage.build.bucketArn,
      repository: stage.build.repositoryArn,
      buildLogGroup: stage.build.logGroupArn,
      roleBoundary: stage.volumeRoleBoundaryArn,
    },
    roles,
  };
  if (cache) await writeFile(cache, JSON.stringify(result));
  return result;
}

/** Rewrites every ARN and context value of `requests`, replacing each `from` with its `to`, in order. */
export function relocate(list: IamRequest[], pairs: [string, string][]): IamRequest[] {
  const move = (value: string) => pairs.reduce((text, [from, to]) => text.replaceAll(from, to), value);
  return list.map((request) => ({
    ...request,
    resource: move(request.resource),
    context: Object.fromEntries(
      Object.entries(request.context).map(([key, value]) => [
        key,
        Array.isArray(value) ? value.map(move) : move(value),
      ]),
    ),
  }));
}

/**
 * The requests the stage's policies do not allow for the function that made them, one line each (identical
 * requests are asked once). A request without a function is refused outright.
 */
export async function refused(requests: IamRequest[], stage: StagePolicies): Promise<string[]> {
  const lines = new Set<string>();
  const asked = new Set<string>();
  for (const request of requests) {
    const key = JSON.stringify(request);
    if (asked.has(key)) continue;
    asked.add(key);
    const name = request.caller as Caller;
    const role = stage.roles[name];
    const decision = role ? await decide(request, role.arn, role.policies) : 'made outside any function';
    if (decision !== 'Allowed')
      lines.add(
        `${name}: ${request.action} on ${request.resource} ${JSON.stringify(request.context)} → ${decision}`,
      );
  }
  return [...lines];
}
