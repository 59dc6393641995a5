import type { MatineeConfig } from '../config/config.ts';
import { type BuildRecord, currentFailure, type Environment } from '../environment/environment.ts';
import { gate } from '../environment/policy.ts';
import { APP_CONTAINER } from '../environment/task-spec.ts';
import { UserError } from '../errors.ts';
import { cleanLogLines } from '../logs/log-tail.ts';
import type {
  Clock,
  EnvironmentRef,
  ImageBuilder,
  ImageBuildSpec,
  ImageBuildStatus,
  Logger,
} from '../ports.ts';

/** How many lines of a failed build's log its failure quotes. */
export const BUILD_LOG_LINES = 20;

/** What the build of the desired commit means for this reconcile. */
export type BuildVerdict =
  /** Nothing to build (no `build:`, not wanted running, held back by policy): the gate decides. */
  | { kind: 'none' }
  /** The images exist: the task uses these, by container name. */
  | { kind: 'built'; images: Record<string, string> }
  /** Queued or building: held, and why in words. */
  | { kind: 'waiting'; reason: string }
  /** The commit cannot run: its build failed (the reason quotes the log's end), or cannot be started. */
  | { kind: 'failed'; reason: string };

export interface BuildDeps {
  builder?: ImageBuilder;
  clock: Clock;
  log: Logger;
  /**
   * Local mode runs `local.command` when the config has one, and neither pulls nor builds its images: with
   * it, nothing is built.
   */
  localCommandFirst?: boolean;
}

function render(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}

/** The images `config` asks Matinee to build (app first), build args filled for `env` at `sha`. */
export function imageBuilds(
  config: MatineeConfig,
  env: Pick<Environment, 'number' | 'pr'>,
  sha: string,
): ImageBuildSpec[] {
  const values = { sha, short_sha: sha.slice(0, 7), pr: String(env.number), branch: env.pr.branch };
  const containers: [string, MatineeConfig['app']['build']][] = [
    [APP_CONTAINER, config.app.build],
    ...Object.entries(config.sidecars).map(([name, sidecar]): [string, MatineeConfig['app']['build']] => [
      name,
      sidecar.build,
    ]),
  ];
  return containers.flatMap(([container, build]) =>
    build
      ? [
          {
            container,
            dockerfile: build.dockerfile,
            context: build.context,
            ...(build.target ? { target: build.target } : {}),
            args: Object.fromEntries(Object.entries(build.args).map(([k, v]) => [k, render(v, values)])),
          },
        ]
      : [],
  );
}

const inFlight = (build: BuildRecord | undefined): build is BuildRecord =>
  build?.state === 'queued' || build?.state === 'building';

/** Why the environment waits, for the comment, the dashboard and the waking page. */
function waitingReason(build: BuildRecord): string {
  const short = build.sha.slice(0, 7);
  return build.state === 'queued'
    ? `image build of ${short} queued: it starts when a build slot is free (new AWS accounts often run one CodeBuild build at a time)`
    : `building the image of ${short}`;
}

/** A failed build's reason for the PR author: the builder's one line, then the end of its log (cleaned). */
function failureReason(build: BuildRecord): string {
  const head = `image build of ${build.sha.slice(0, 7)} failed: ${build.reason ?? 'no reason given'}`;
  const tail = build.logTail?.length ? `\n\nLast lines of the build log:\n${build.logTail.join('\n')}` : '';
  return head + tail;
}

function builtImages(builder: ImageBuilder, ref: EnvironmentRef, sha: string, specs: ImageBuildSpec[]) {
  return Object.fromEntries(specs.map((spec) => [spec.container, builder.imageOf(ref, sha, spec.container)]));
}

/** `build` as `status` says it now is (the log's end cleaned: the builder's text is the build's output). */
function updated(build: BuildRecord, status: ImageBuildStatus, now: string): BuildRecord {
  const next: BuildRecord = {
    ...build,
    state: status.state,
    since: status.state === build.state ? build.since : now,
    logUrl: status.log?.url ?? build.logUrl,
  };
  if (status.state !== 'failed') return next;
  return {
    ...next,
    reason: cleanLogLines([status.reason], 1)[0] ?? 'failed',
    logTail: cleanLogLines(status.logTail, BUILD_LOG_LINES),
  };
}

/**
 * Moves the image build of `env`'s desired commit one step on, and says what it means: starts it when
 * due, asks where it is while it runs, stops a build of an older commit (a newer push supersedes it).
 * Returns the build record to keep. A commit whose build succeeded is never built again: waking,
 * redeploying or a task crash reuse its images. A retry after a failed build (which clears the failure)
 * starts the next attempt. Only a commit the gate would deploy is built: a fork's unapproved commit never
 * runs a Dockerfile.
 */
export async function advanceBuild(
  deps: BuildDeps,
  env: Environment,
  ref: EnvironmentRef,
): Promise<{ build: BuildRecord | undefined; verdict: BuildVerdict }> {
  const now = deps.clock.now().toISOString();
  const sha = env.desired.sha;
  const config = env.config?.status === 'ok' ? env.config : undefined;
  const specs = config ? imageBuilds(config.value, env, sha) : [];
  // Locally `local.command` runs instead of the images: named (never pulled), not built.
  const viaCommand = Boolean(deps.localCommandFirst && config?.value.local);
  const wanted =
    env.desired.phase === 'running' &&
    config !== undefined &&
    specs.length > 0 &&
    !viaCommand &&
    gate(env.pr, config, env.policy ?? config, env.forkApproval, env.builds).deploy;
  let build = env.build;
  // A build of another commit, or one nobody wants any more (closed, config without `build:`): stopped.
  if (inFlight(build) && (build.sha !== sha || (!wanted && env.desired.phase !== 'sleeping'))) {
    await deps.builder?.stop(build.id);
    deps.log.info('image build stopped', { id: env.id, sha: build.sha, build: build.id });
    build =
      env.desired.phase === 'deleted'
        ? undefined
        : { ...build, state: 'failed', reason: 'stopped', since: now };
  }
  const own = build?.sha === sha ? build : undefined;
  if ((own?.state === 'succeeded' || viaCommand) && deps.builder && specs.length)
    return { build, verdict: { kind: 'built', images: builtImages(deps.builder, ref, sha, specs) } };
  if (!wanted || currentFailure(env)) {
    return {
      build,
      verdict:
        own?.state === 'failed' && currentFailure(env)
          ? { kind: 'failed', reason: failureReason(own) }
          : { kind: 'none' },
    };
  }
  const builder = deps.builder;
  if (!builder)
    return {
      build,
      verdict: {
        kind: 'failed',
        reason:
          '.matinee.yml asks Matinee to build images (`build:`), which this Matinee deployment cannot do: use `image:` with an image your CI pushes, or upgrade Matinee',
      },
    };
  if (inFlight(own)) {
    const status = await builder.status(own.id);
    if (status) {
      const next = updated(own, status, now);
      if (next.state === 'succeeded')
        return { build: next, verdict: { kind: 'built', images: builtImages(builder, ref, sha, specs) } };
      if (next.state === 'failed')
        return { build: next, verdict: { kind: 'failed', reason: failureReason(next) } };
      return { build: next, verdict: { kind: 'waiting', reason: waitingReason(next) } };
    }
    deps.log.warn('image build unknown to the builder; starting it again', { id: env.id, build: own.id });
  }
  // None yet for this commit, a retry after a failed one, or one the builder lost: the next attempt.
  const attempt = (own?.attempt ?? 0) + 1;
  try {
    const started = await builder.start({ ref, repo: env.repo, sha, attempt, images: specs });
    const next: BuildRecord = {
      sha,
      attempt,
      id: started.id,
      state: 'queued',
      startedAt: now,
      since: now,
      ...(started.log?.url ? { logUrl: started.log.url } : {}),
    };
    deps.log.info('image build started', { id: env.id, sha, build: started.id, attempt });
    return { build: next, verdict: { kind: 'waiting', reason: waitingReason(next) } };
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return {
      build,
      verdict: {
        kind: 'failed',
        reason: `image build of ${sha.slice(0, 7)} could not start: ${error.message}`,
      },
    };
  }
}
