import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Build, CodeBuildClient, EnvironmentVariable } from '@aws-sdk/client-codebuild';
import { BatchGetImageCommand, GetAuthorizationTokenCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { BUILD_VARIABLES } from '@matinee/aws';
import type { MotoStage } from './moto-stage.ts';

/**
 * moto forgets StartBuild's variable overrides, which CodeBuild lists on the build, and writes CodeBuild's
 * times as ISO strings where CodeBuild's JSON protocol (and the SDK reading it) has epoch seconds. Both
 * supplied on `client`, for every test that starts builds on moto.
 */
export function motoCodeBuildGaps(client: CodeBuildClient): CodeBuildClient {
  type Built = { id?: string; environment?: { environmentVariables?: EnvironmentVariable[] } };
  const overrides = new Map<string, EnvironmentVariable[]>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const output = result.output as unknown as { build?: Built; builds?: Built[] };
      const input = args.input as unknown as { environmentVariablesOverride?: EnvironmentVariable[] };
      if (context.commandName === 'StartBuildCommand' && output.build?.id)
        overrides.set(output.build.id, input.environmentVariablesOverride ?? []);
      for (const build of [...(output.builds ?? []), ...(output.build ? [output.build] : [])]) {
        const extra = overrides.get(build.id ?? '') ?? [];
        if (build.environment)
          build.environment.environmentVariables = [
            ...(build.environment.environmentVariables ?? []),
            ...extra,
          ];
      }
      return result;
    },
    { step: 'initialize', name: 'motoKeepsOverrides' },
  );
  const epoch = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(epoch);
    if (value && typeof value === 'object')
      return Object.fromEntries(
        Object.entries(value).map(([key, inner]) => [
          key,
          /Time$/.test(key) && typeof inner === 'string' ? Date.parse(inner) / 1000 : epoch(inner),
        ]),
      );
    return value;
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as { body: AsyncIterable<Buffer>; headers: Record<string, string> };
      const chunks: Buffer[] = [];
      for await (const chunk of response.body) chunks.push(Buffer.from(chunk));
      const text = Buffer.concat(chunks).toString('utf8');
      const body = Buffer.from(text ? JSON.stringify(epoch(JSON.parse(text))) : '');
      response.body = Readable.from([body]);
      response.headers['content-length'] = String(body.length);
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'motoEpochTimes' },
  );
  return client;
}

type Status = 'QUEUED' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'STOPPED';
interface Run {
  id: string;
  arn: string;
  status: Status;
  /** The status last announced on the bus. */
  reported?: Status;
  variables: EnvironmentVariable[];
  stream?: string;
}

/**
 * What CodeBuild does that moto's does not: run a build. moto answers BatchGetBuilds with SUCCEEDED the
 * first time it is asked; here a build started through an attached client is QUEUED, then IN_PROGRESS, then
 * SUCCEEDED (having read its source and pushed its images, as the buildspec does: see `finish`) or, for a
 * commit in `failing`, FAILED in its BUILD phase with those lines in its log stream; one of a commit `held`
 * stays QUEUED; StopBuild stops it. Each change is announced as CodeBuild does, a "CodeBuild Build State
 * Change" on the default bus (moto's rule, with the stacks' pattern, routes it to the task-events function).
 * One `tick` moves every build one step.
 */
export class CodeBuildStandIn {
  private readonly runs = new Map<string, Run>();
  /** Commits whose build fails, with the log lines it ends on. */
  readonly failing = new Map<string, string[]>();
  /** Commits whose builds wait in CodeBuild's queue (the account's one build slot is taken) until deleted. */
  readonly held = new Set<string>();

  /**
   * `role`: the clients the build's own calls go through and the caller they are made as (recorded for the
   * IAM simulation as CodeBuild's role); the stage's admin clients, unrecorded, without it.
   */
  constructor(
    private readonly moto: MotoStage,
    private readonly role?: {
      clients: Pick<MotoStage['admin'], 's3' | 'ecr' | 'logs'>;
      as: <T>(fn: () => Promise<T>) => Promise<T>;
    },
  ) {}

  attach(codebuild: CodeBuildClient): void {
    motoCodeBuildGaps(codebuild);
    codebuild.middlewareStack.add(
      (next, context) => async (args) => {
        const input = (args as { input: Record<string, unknown> }).input;
        if (context.commandName === 'StopBuildCommand') {
          const run = this.runs.get(String(input.id));
          if (run && (run.status === 'QUEUED' || run.status === 'IN_PROGRESS')) run.status = 'STOPPED';
        }
        const result = await next(args);
        const output = result.output as { build?: Build; builds?: Build[] };
        if (context.commandName === 'StartBuildCommand' && output.build?.id)
          this.runs.set(output.build.id, {
            id: output.build.id,
            arn: output.build.arn ?? '',
            status: 'QUEUED',
            variables: (input.environmentVariablesOverride ?? []) as EnvironmentVariable[],
          });
        for (const build of [...(output.builds ?? []), ...(output.build ? [output.build] : [])])
          this.describe(build);
        return result;
      },
      { step: 'initialize', name: 'codebuildStandIn', priority: 'low' },
    );
  }

  /** The build as CodeBuild would describe it now. */
  private describe(build: Build): void {
    const run = this.runs.get(build.id ?? '');
    if (!run) return;
    build.buildStatus = run.status === 'QUEUED' ? 'IN_PROGRESS' : run.status;
    build.currentPhase = { QUEUED: 'QUEUED', IN_PROGRESS: 'BUILD' }[run.status as string] ?? 'COMPLETED';
    build.buildComplete = !['QUEUED', 'IN_PROGRESS'].includes(run.status);
    const group = this.moto.settings.build?.logGroup ?? '';
    const stream = run.id.split(':')[1] ?? run.id;
    build.logs = {
      groupName: group,
      streamName: stream,
      deepLink: `https://console.aws.amazon.com/cloudwatch/home?region=${this.moto.settings.region}#logsV2:log-groups/log-group/${encodeURIComponent(group)}/log-events/${stream}`,
    };
    build.phases =
      run.status === 'FAILED'
        ? [
            {
              phaseType: 'BUILD',
              phaseStatus: 'FAILED',
              contexts: [
                {
                  statusCode: 'COMMAND_EXECUTION_ERROR',
                  message: 'Error while executing command: docker buildx build. Reason: exit status 1',
                },
              ],
            },
          ]
        : [];
  }

  /** Every unfinished build one step on, each change announced. Returns how many events it put. */
  async tick(): Promise<number> {
    let emitted = 0;
    for (const run of this.runs.values()) {
      if (run.status === 'QUEUED' && !this.held.has(this.variable(run, BUILD_VARIABLES.sha)))
        run.status = 'IN_PROGRESS';
      else if (run.status === 'IN_PROGRESS') run.status = await this.finish(run);
      if (run.status === run.reported || run.status === 'QUEUED') continue;
      run.reported = run.status;
      await this.announce(run);
      emitted++;
    }
    return emitted;
  }

  private variable(run: Run, name: string): string {
    return run.variables.find((v) => v.name === name)?.value ?? '';
  }

  /**
   * The build's own calls, as the buildspec makes them, through the role's clients: the source the builder
   * put (by the key it passed), the registry login, the log, then for each image the check that it is not
   * there yet and its push (the layer uploads before PutImage, and the layer cache, are not played).
   */
  private async finish(run: Run): Promise<Status> {
    const build = this.moto.settings.build;
    if (!build) throw new Error('a build on a stage without a build project');
    const { s3, ecr, logs } = this.role?.clients ?? this.moto.admin;
    const as = this.role?.as ?? (<T>(fn: () => Promise<T>) => fn());
    const failing = this.failing.get(this.variable(run, BUILD_VARIABLES.sha));
    const images = JSON.parse(this.variable(run, BUILD_VARIABLES.images) || '[]') as { ref: string }[];
    return as(async () => {
      const source = await s3.send(
        new GetObjectCommand({ Bucket: build.bucket, Key: this.variable(run, BUILD_VARIABLES.sourceKey) }),
      );
      await source.Body?.transformToByteArray();
      await ecr.send(new GetAuthorizationTokenCommand({}));
      const logStreamName = run.id.split(':')[1] ?? run.id;
      await logs.send(new CreateLogStreamCommand({ logGroupName: build.logGroup, logStreamName }));
      const lines = failing ?? images.map((image) => `matinee: building ${image.ref}`);
      await logs.send(
        new PutLogEventsCommand({
          logGroupName: build.logGroup,
          logStreamName,
          logEvents: lines.map((message) => ({ timestamp: Date.now(), message: `${message}\n` })),
        }),
      );
      if (failing) return 'FAILED';
      for (const [n, image] of images.entries()) {
        const imageTag = image.ref.slice(image.ref.lastIndexOf(':') + 1);
        const found = await ecr.send(
          new BatchGetImageCommand({ repositoryName: build.repository, imageIds: [{ imageTag }] }),
        );
        if (found.images?.length) continue;
        await ecr.send(
          new PutImageCommand({
            repositoryName: build.repository,
            imageTag,
            imageManifest: JSON.stringify({
              schemaVersion: 2,
              mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
              config: {
                digest: `sha256:${createHash('sha256').update(`${run.id} ${n}`).digest('hex')}`,
                size: 1,
                mediaType: 'application/vnd.docker.container.image.v1+json',
              },
              layers: [],
            }),
          }),
        );
      }
      return 'SUCCEEDED';
    });
  }

  private async announce(run: Run): Promise<void> {
    const detail = {
      'build-status': run.status,
      'project-name': this.moto.settings.build?.project,
      'build-id': run.arn,
      'additional-information': { environment: { 'environment-variables': run.variables } },
    };
    const { FailedEntryCount } = await this.moto.admin.eventbridge.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'aws.codebuild',
            DetailType: 'CodeBuild Build State Change',
            Resources: [run.arn],
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    if (FailedEntryCount) throw new Error(`moto refused a CodeBuild event: ${run.status}`);
  }
}
