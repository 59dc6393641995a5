import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  AccountLimitExceededException,
  BatchGetBuildsCommand,
  type Build,
  CodeBuildClient,
  InvalidInputException,
  ListBuildsForProjectCommand,
  StartBuildCommand,
  StopBuildCommand,
} from '@aws-sdk/client-codebuild';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CodeBuildImageBuilder } from '@matinee/aws';
import { environmentId, environmentRef, TransientError, UserError } from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';

/**
 * What moto cannot show (test/emulator/build.test.ts): CodeBuild's queue, running and failed builds with
 * their log's end, a full account, a stop of a finished build, and the build event's way to a reconcile. A
 * small stateful CodeBuild behind the real SDK client (aws-sdk-client-mock).
 */
const SHA = 'e'.repeat(40);
const ID = environmentId('acme/web', 42);
const ref = environmentRef(
  { stage: 'test', domain: 'preview.example.com' },
  { id: ID, slug: 'fix-pr42', host: 'fix-pr42.preview.example.com', observed: { resources: {} } },
);

function fake() {
  const builds = new Map<string, Build>();
  const codebuild = new CodeBuildClient({ region: 'eu-west-1' });
  const cb = mockClient(codebuild);
  cb.on(ListBuildsForProjectCommand).callsFake(() => ({ ids: [...builds.keys()].reverse() }));
  cb.on(BatchGetBuildsCommand).callsFake((input: { ids: string[] }) => ({
    builds: input.ids.flatMap((id) => (builds.has(id) ? [builds.get(id) as Build] : [])),
  }));
  cb.on(StartBuildCommand).callsFake((input) => {
    const id = `matinee-test:${builds.size + 1}`;
    const build: Build = {
      id,
      buildStatus: 'IN_PROGRESS',
      currentPhase: 'QUEUED',
      environment: {
        type: 'LINUX_CONTAINER',
        image: 'x',
        computeType: 'BUILD_GENERAL1_SMALL',
        environmentVariables: input.environmentVariablesOverride,
      },
      timeoutInMinutes: 60,
      logs: {
        groupName: '/matinee/test/builds',
        streamName: `s${builds.size + 1}`,
        deepLink: `https://console/logs/${builds.size + 1}`,
      },
    };
    builds.set(id, build);
    return { build };
  });
  cb.on(StopBuildCommand).callsFake((input: { id: string }) => {
    const build = builds.get(input.id);
    if (build?.buildStatus !== 'IN_PROGRESS')
      throw new InvalidInputException({ message: 'Build cannot be stopped', $metadata: {} });
    build.buildStatus = 'STOPPED';
    return { build };
  });
  const s3 = new S3Client({ region: 'eu-west-1' });
  mockClient(s3).on(PutObjectCommand).resolves({});
  const logs = new CloudWatchLogsClient({ region: 'eu-west-1' });
  const logLines = mockClient(logs);
  logLines.on(GetLogEventsCommand).resolves({
    events: [
      '#5 [2/3] RUN npm ci\n',
      'npm ERR! missing script: build\n',
      'ERROR: process "/bin/sh -c npm run build" did not complete successfully: exit code: 1\n',
    ].map((message) => ({ message })),
  });
  const builder = new CodeBuildImageBuilder({
    codebuild,
    s3,
    logs,
    archive: {
      download: async () =>
        (async function* () {
          yield new Uint8Array([1, 2, 3]);
        })(),
    },
    stage: 'test',
    project: 'matinee-test',
    bucket: 'sources',
    repositoryUrl: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/matinee-test',
  });
  return { builds, cb, builder, logLines };
}

const request = {
  ref,
  repo: 'acme/web',
  sha: SHA,
  attempt: 1,
  images: [{ container: 'app', dockerfile: 'Dockerfile', context: '.', args: {} }],
};

describe('the CodeBuild builder', () => {
  it('says queued while CodeBuild queues, building once it runs, with the log link', async () => {
    const { builds, builder } = fake();
    const { id } = await builder.start(request);
    expect(await builder.status(id)).toEqual({ state: 'queued', log: { url: 'https://console/logs/1' } });
    Object.assign(builds.get(id) as Build, { currentPhase: 'BUILD' });
    expect(await builder.status(id)).toMatchObject({ state: 'building' });
    Object.assign(builds.get(id) as Build, { buildStatus: 'SUCCEEDED', currentPhase: 'COMPLETED' });
    expect(await builder.status(id)).toMatchObject({ state: 'succeeded' });
  });

  it("fails a failed build with the phase, CodeBuild's reason and the log's last lines", async () => {
    const { builds, builder, logLines } = fake();
    const { id } = await builder.start(request);
    Object.assign(builds.get(id) as Build, {
      buildStatus: 'FAILED',
      currentPhase: 'COMPLETED',
      phases: [
        { phaseType: 'PRE_BUILD', phaseStatus: 'SUCCEEDED' },
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
      ],
    });
    const status = await builder.status(id);
    expect(status).toEqual({
      state: 'failed',
      reason:
        'docker build failed: COMMAND_EXECUTION_ERROR: Error while executing command: docker buildx build. Reason: exit status 1',
      logTail: [
        '#5 [2/3] RUN npm ci',
        'npm ERR! missing script: build',
        'ERROR: process "/bin/sh -c npm run build" did not complete successfully: exit code: 1',
      ],
      log: { url: 'https://console/logs/1' },
    });
    expect(logLines.commandCalls(GetLogEventsCommand)[0]?.args[0].input).toMatchObject({
      logGroupName: '/matinee/test/builds',
      logStreamName: 's1',
      startFromHead: false,
    });
  });

  it('says how a stopped or timed-out build ended', async () => {
    const { builds, builder } = fake();
    const { id } = await builder.start(request);
    await builder.stop(id);
    expect(await builder.status(id)).toMatchObject({ state: 'failed', reason: 'the build was stopped' });
    // Stopping a finished build again is done.
    await expect(builder.stop(id)).resolves.toBeUndefined();
    Object.assign(builds.get(id) as Build, { buildStatus: 'TIMED_OUT', currentPhase: 'BUILD' });
    expect(await builder.status(id)).toMatchObject({ reason: 'the build took longer than 60 minutes' });
  });

  it("waits, transiently, when the account's build queue is full", async () => {
    const { cb, builder } = fake();
    cb.on(StartBuildCommand).rejects(
      new AccountLimitExceededException({
        message: 'Cannot have more than 1 builds in queue',
        $metadata: {},
      }),
    );
    const start = builder.start(request);
    await expect(start).rejects.toThrow(TransientError);
    await expect(start).rejects.toThrow(/limit of builds for this account is reached .* waits for room/);
  });

  it('refuses a path outside the repository before downloading anything', async () => {
    const { cb, builder } = fake();
    await expect(
      builder.start({
        ...request,
        images: [{ container: 'app', dockerfile: '../../etc/passwd', context: '.', args: {} }],
      }),
    ).rejects.toThrow(/dockerfile must be a path inside the repository/);
    expect(cb.commandCalls(StartBuildCommand)).toHaveLength(0);
  });

  it('a too-large source fails the start as the archive says, with no build', async () => {
    const { cb } = fake();
    const builder = new CodeBuildImageBuilder({
      codebuild: new CodeBuildClient({}),
      s3: new S3Client({}),
      logs: new CloudWatchLogsClient({}),
      archive: {
        download: async () => {
          throw new UserError('the source of acme/web at eeeeeee is larger than 500 MB');
        },
      },
      stage: 'test',
      project: 'matinee-test',
      bucket: 'sources',
      repositoryUrl: 'r',
    });
    mockClient((builder as unknown as { options: { codebuild: CodeBuildClient } }).options.codebuild)
      .on(ListBuildsForProjectCommand)
      .resolves({ ids: [] });
    await expect(builder.start(request)).rejects.toThrow(UserError);
    expect(cb.commandCalls(StartBuildCommand)).toHaveLength(0);
  });
});
