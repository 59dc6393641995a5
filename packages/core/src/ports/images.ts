/** The image build port and the source archive it builds from. */
import type { LogLocation } from './logs.ts';
import type { EnvironmentRef } from './runtime.ts';

/**
 * One image that `.matinee.yml` `build:` asks for: a container and how to build it, from the config validated
 * at the commit (never from a stored record).
 */
export interface ImageBuildSpec {
  /** `app` or the sidecar's name. */
  container: string;
  /** Relative to the repository root, inside it (the config schema refuses absolute paths and `..`). */
  dockerfile: string;
  /** Relative to the repository root, inside it; `.` is the root. */
  context: string;
  target?: string;
  /** `--build-arg`s, placeholders filled. Never secrets: the config refuses secret-looking ones. */
  args: Record<string, string>;
}

/** Build the images of one environment's commit: all its `build:` containers in one build. */
export interface ImageBuildRequest {
  ref: EnvironmentRef;
  repo: string;
  sha: string;
  /**
   * 1 for a commit's first build; a retry after a failed build asks again with the next number. With
   * `ref.id` and `sha`, what makes `start` idempotent: same three, same build.
   */
  attempt: number;
  images: ImageBuildSpec[];
}

/**
 * Where a build stands. `queued`: accepted but not running yet (CodeBuild accounts often run one build at
 * a time): said as such, never taken for stuck. `failed` covers stopped, timed out and faulted builds.
 */
export type ImageBuildStatus =
  | { state: 'queued' | 'building' | 'succeeded'; log?: LogLocation }
  | {
      state: 'failed';
      /** One line for the PR author: `docker build exited with 1`, `timed out after 60 min`, `stopped`. */
      reason: string;
      /** The last lines of the build's log, oldest first, as written: callers clean and escape them. */
      logTail: string[];
      log?: LogLocation;
    };

/**
 * Builds the images of `.matinee.yml` `build:` (CodeBuild on AWS, `docker build` locally). The build state
 * comes back as a reconcile of the environment (on AWS, CodeBuild's state-change event, matched to the
 * environment by the build's `ref.tags`), which asks `status`.
 */
export interface ImageBuilder {
  /**
   * Starts the build of `request`, or finds the one already started for the same environment, sha and
   * attempt; returns its id. Fails with UserError for what the PR author must fix (source too large, no
   * Docker engine locally), TransientError for what a retry may fix.
   */
  start(request: ImageBuildRequest): Promise<{ id: string; log?: LogLocation }>;
  /**
   * Where build `id` is; undefined when the builder knows no such build (expired, or never started). `id`
   * (here and in `stop`) is read back from the store: an adapter uses it only once it is one of its own
   * (its project's, its format), and answers undefined otherwise.
   */
  status(id: string): Promise<ImageBuildStatus | undefined>;
  /** Stops build `id` (a newer push superseded it). Finished or unknown already is success. */
  stop(id: string): Promise<void>;
  /**
   * The image a successful build of `sha` pushed for `container`, as the runtime pulls it (on AWS
   * `<stage ECR repository>:<env>-<sha>`, with the container's name for a sidecar). No I/O: the task's
   * image is derived, never read back from a stored record.
   */
  imageOf(ref: EnvironmentRef, sha: string, container: string): string;
  /** Deletes every image built for `ref`'s environment, when it is removed. None left is success. */
  removeImages?(ref: EnvironmentRef): Promise<void>;
  /** Deletes the built images of every environment slug not in `keep` (the resync's orphans); returns them. */
  pruneImages?(keep: ReadonlySet<string>): Promise<string[]>;
}

/**
 * The repository's files at a commit, as GitHub's tarball, downloaded with the installation token: the token
 * stays in the control plane (the AWS builder puts the tarball in its source bucket, CodeBuild never sees
 * the token). Core does not call it; the builder does.
 */
export interface SourceArchive {
  /**
   * A stream of the gzip'd tarball of `repo` at `sha`. Reading past `maxBytes` fails with a UserError naming
   * the limit, so an oversized repository fails its environment with a clear reason.
   */
  download(repo: string, sha: string, maxBytes: number): Promise<AsyncIterable<Uint8Array>>;
}
