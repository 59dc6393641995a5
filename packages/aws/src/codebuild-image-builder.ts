import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  BatchGetBuildsCommand,
  type Build,
  type CodeBuildClient,
  ListBuildsForProjectCommand,
  StartBuildCommand,
  StopBuildCommand,
} from '@aws-sdk/client-codebuild';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  type EnvironmentRef,
  type ImageBuilder,
  type ImageBuildRequest,
  type ImageBuildStatus,
  type LogLocation,
  type SourceArchive,
  shortHash,
  TransientError,
} from '@matinee/core';
import { environmentTagValue } from './aws-tags.ts';
import { BUILD_VARIABLES, buildArgv, cacheTag, imageTag, slugOf, sourceKey } from './codebuild-buildspec.ts';
import { buildFailure, buildLogTail } from './codebuild-status.ts';
import type { EcrImages } from './ecr-images.ts';
import { aws, fromAws, isAwsError } from './errors.ts';
import { uploadStream } from './s3-stream-upload.ts';

export interface CodeBuildImageBuilderOptions {
  codebuild: CodeBuildClient;
  s3: S3Client;
  /** Reads the end of a failed build's log (the build log group). */
  logs: CloudWatchLogsClient;
  /** The commit's tarball, downloaded with the installation token, which stays here. */
  archive: SourceArchive;
  stage: string;
  project: string;
  bucket: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/matinee-<stage>`: what images are tagged under. */
  repositoryUrl: string;
  /** The built images in the stage's repository, removed with their environment. */
  images?: EcrImages;
  /** The most a commit's tarball may weigh (see DEFAULT_MAX_SOURCE_BYTES). */
  maxSourceBytes?: number;
}

/** A repository bigger than this is better built by its own CI; a reconcile has 5 minutes to upload it. */
export const DEFAULT_MAX_SOURCE_BYTES = 500 * 1024 * 1024;
/** Builds looked through to find one already started: CodeBuild lists a project's builds newest first. */
const RECENT_BUILDS = 100;
/** Lines of a failed build's log kept for the pull request. */
const TAIL_LINES = 30;

/**
 * The `ImageBuilder` on CodeBuild: the commit's tarball goes to the stage's bucket (streamed), and one build of
 * the stage's project builds every `build:` image of the commit with buildx and pushes it to the stage's ECR
 * repository. `start` is idempotent per environment, sha and attempt: a build already started for them is found
 * among the project's recent builds (by its variables) before anything is downloaded, and StartBuild carries an
 * idempotency token for two reconciles racing. CodeBuild queues builds past the account's concurrency (often 1 in
 * new accounts); that is `queued`, not stuck.
 */
export class CodeBuildImageBuilder implements ImageBuilder {
  private readonly options: CodeBuildImageBuilderOptions;

  constructor(options: CodeBuildImageBuilderOptions) {
    this.options = options;
  }

  imageOf(ref: EnvironmentRef, sha: string, container: string): string {
    return `${this.options.repositoryUrl}:${imageTag(slugOf(this.options.stage, ref), sha, container)}`;
  }

  async removeImages(ref: EnvironmentRef): Promise<void> {
    await this.options.images?.remove(ref);
  }

  async pruneImages(keep: ReadonlySet<string>): Promise<string[]> {
    const images = this.options.images;
    if (!images) return [];
    return images.prune(keep);
  }

  async start(request: ImageBuildRequest): Promise<{ id: string; log?: LogLocation }> {
    const { ref, repo, sha, attempt } = request;
    const { codebuild, repositoryUrl, stage } = this.options;
    const slug = slugOf(stage, ref);
    // Checked before any download: a bad path or argument fails here, not in CodeBuild. Each environment
    // reads and writes only its own layer cache (see cacheTag).
    const images = request.images.map((image) => {
      const target = this.imageOf(ref, sha, image.container);
      const cache = `${repositoryUrl}:${cacheTag(slug, ref.id, image.container)}`;
      return { ref: target, argv: buildArgv(image, target, cache) };
    });
    const found = await this.find(request);
    if (found) return found;

    const key = sourceKey(ref.id, sha, attempt);
    const source = await this.options.archive.download(
      repo,
      sha,
      this.options.maxSourceBytes ?? DEFAULT_MAX_SOURCE_BYTES,
    );
    await uploadStream(
      this.options.s3,
      { bucket: this.options.bucket, key, contentType: 'application/gzip' },
      source,
    );

    const variables: Record<string, string> = {
      [BUILD_VARIABLES.environment]: environmentTagValue(ref.id),
      [BUILD_VARIABLES.sha]: sha,
      [BUILD_VARIABLES.attempt]: String(attempt),
      [BUILD_VARIABLES.sourceKey]: key,
      [BUILD_VARIABLES.images]: JSON.stringify(images),
    };
    try {
      const { build } = await codebuild.send(
        new StartBuildCommand({
          projectName: this.options.project,
          // Valid 5 minutes: two reconciles of the same environment starting at once start one build.
          idempotencyToken: shortHash(`${ref.id}|${sha}|${attempt}`, 32),
          environmentVariablesOverride: Object.entries(variables).map(([name, value]) => ({
            name,
            value,
            type: 'PLAINTEXT',
          })),
        }),
      );
      if (!build?.id) throw new TransientError('CodeBuild started a build without an id');
      return { id: build.id, log: location(build) };
    } catch (error) {
      // The account's queue is full too: the reconcile is retried (and resync asks again), the environment
      // keeps saying it is waiting for its build.
      if (isAwsError(error, 'AccountLimitExceededException'))
        throw new TransientError(
          `CodeBuild's limit of builds for this account is reached (running and queued): the build of ${sha.slice(0, 7)} waits for room`,
          { cause: error },
        );
      throw fromAws(error, `StartBuild ${this.options.project}`);
    }
  }

  async status(id: string): Promise<ImageBuildStatus | undefined> {
    const build = await this.describe(id);
    if (!build) return undefined;
    const log = location(build);
    switch (build.buildStatus) {
      case 'SUCCEEDED':
        return { state: 'succeeded', log };
      case 'IN_PROGRESS':
      case undefined:
        // SUBMITTED and QUEUED: accepted, waiting for the account's concurrency.
        return {
          state: ['SUBMITTED', 'QUEUED'].includes(build.currentPhase ?? 'SUBMITTED') ? 'queued' : 'building',
          log,
        };
      default:
        return {
          state: 'failed',
          reason: buildFailure(build),
          logTail: await buildLogTail(this.options.logs, build, TAIL_LINES),
          log,
        };
    }
  }

  async stop(id: string): Promise<void> {
    try {
      await this.options.codebuild.send(new StopBuildCommand({ id }));
    } catch (error) {
      // Finished already (CodeBuild says so as an invalid input), or unknown: nothing to stop.
      if (isAwsError(error, 'ResourceNotFoundException', 'InvalidInputException')) return;
      throw fromAws(error, `StopBuild ${id}`);
    }
  }

  private async describe(id: string): Promise<Build | undefined> {
    const { builds } = await aws(`BatchGetBuilds ${id}`, () =>
      this.options.codebuild.send(new BatchGetBuildsCommand({ ids: [id] })),
    );
    return builds?.find((build) => build.id === id);
  }

  /** The build already started for this environment, sha and attempt, among the project's recent ones. */
  private async find(request: ImageBuildRequest): Promise<{ id: string; log?: LogLocation } | undefined> {
    const { codebuild, project } = this.options;
    const { ids } = await aws(`ListBuildsForProject ${project}`, () =>
      codebuild.send(new ListBuildsForProjectCommand({ projectName: project, sortOrder: 'DESCENDING' })),
    );
    const recent = (ids ?? []).slice(0, RECENT_BUILDS);
    if (!recent.length) return undefined;
    const { builds } = await aws(`BatchGetBuilds ${project}`, () =>
      codebuild.send(new BatchGetBuildsCommand({ ids: recent })),
    );
    const wanted = {
      [BUILD_VARIABLES.environment]: environmentTagValue(request.ref.id),
      [BUILD_VARIABLES.sha]: request.sha,
      [BUILD_VARIABLES.attempt]: String(request.attempt),
    };
    const build = (builds ?? []).find((candidate) => {
      const variables = buildVariables(candidate);
      return Object.entries(wanted).every(([name, value]) => variables[name] === value);
    });
    return build?.id ? { id: build.id, log: location(build) } : undefined;
  }
}

/** A build's environment variables (its overrides included), by name. */
export function buildVariables(build: Build): Record<string, string> {
  return Object.fromEntries(
    (build.environment?.environmentVariables ?? []).map((variable) => [
      variable.name ?? '',
      variable.value ?? '',
    ]),
  );
}

/** The build's log in the CloudWatch console, once CodeBuild has made its stream. */
function location(build: Build): LogLocation | undefined {
  return build.logs?.deepLink ? { url: build.logs.deepLink } : undefined;
}
