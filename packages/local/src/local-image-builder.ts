import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import {
  type EnvironmentId,
  type EnvironmentRef,
  type ImageBuilder,
  type ImageBuildRequest,
  type ImageBuildSpec,
  type ImageBuildStatus,
  UserError,
} from '@matinee/core';

/** Lines of a build's output kept in memory for a failure's tail. */
const KEPT_LINES = 50;

/** Said when a config needs a build and nothing can make one: exactly what is missing, and the two ways out. */
export const NO_DOCKER_FOR_BUILD =
  '.matinee.yml builds its images (`build:`) and has no `local.command`, and no Docker engine answered to build them: start Docker, or give the app a `local.command`';

export interface LocalImageBuilderOptions {
  /** A Docker engine answered (see dockerAvailable). */
  docker: boolean;
  /** The repository locally: `dockerfile` and `context` are relative to it (the config's directory). */
  sourceDir: string;
  /** Where each build's whole output is written, one file per build. */
  logDir: string;
  /** The environment `docker` runs with (its PATH finds it). */
  env: Record<string, string>;
  /** A build ended (succeeded, failed or stopped): what CodeBuild's state-change event does on AWS. */
  onFinished?: (id: EnvironmentId) => void;
}

interface LocalBuild {
  status: ImageBuildStatus;
  child?: ChildProcess;
  lines: string[];
  stopped: boolean;
}

/**
 * `docker build -f <dockerfile> [--target <target>] --build-arg NAME=value … -t <tag> <context>`: the same
 * inputs CodeBuild gets on AWS, with paths resolved inside the repository (the config refuses any that
 * would leave it; checked again here, as the record of a request is not trusted to have come that way).
 */
export function dockerBuildArgs(sourceDir: string, spec: ImageBuildSpec, tag: string): string[] {
  const inside = (path: string) => {
    const root = resolve(sourceDir);
    const full = resolve(root, path);
    if (full !== root && !full.startsWith(root + sep))
      throw new UserError(`build path ${JSON.stringify(path)} leaves the repository`);
    return full;
  };
  return [
    'build',
    '-f',
    inside(spec.dockerfile),
    ...(spec.target ? ['--target', spec.target] : []),
    ...Object.entries(spec.args).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]),
    '-t',
    tag,
    '--label',
    'matinee.built=1',
    inside(spec.context),
  ];
}

/**
 * Builds `build:` images with the local Docker engine, one `docker build` per image, in order. Builds live
 * as long as this process: after a restart, `status` knows none, and reconcile starts the build again
 * (Docker's layer cache makes that quick).
 */
export class LocalImageBuilder implements ImageBuilder {
  private readonly builds = new Map<string, LocalBuild>();

  constructor(private readonly options: LocalImageBuilderOptions) {}

  async start(request: ImageBuildRequest): Promise<{ id: string }> {
    if (!this.options.docker) throw new UserError(NO_DOCKER_FOR_BUILD);
    const id = `${request.ref.names.service}-${request.sha.slice(0, 12)}-${request.attempt}`;
    if (this.builds.has(id)) return { id };
    const build: LocalBuild = { status: { state: 'building' }, lines: [], stopped: false };
    this.builds.set(id, build);
    mkdirSync(this.options.logDir, { recursive: true });
    const log = createWriteStream(join(this.options.logDir, `build-${id}.log`));
    const finish = (status: ImageBuildStatus) => {
      build.status = status;
      build.child = undefined;
      log.end();
      this.options.onFinished?.(request.ref.id);
    };
    const run = async () => {
      for (const spec of request.images) {
        const tag = this.imageOf(request.ref, request.sha, spec.container);
        const code = await this.docker(build, log, dockerBuildArgs(this.options.sourceDir, spec, tag));
        if (build.stopped) return finish({ state: 'failed', reason: 'stopped', logTail: build.lines });
        if (code !== 0)
          return finish({
            state: 'failed',
            reason: `docker build of ${spec.container} exited with ${code}`,
            logTail: build.lines,
          });
      }
      finish({ state: 'succeeded' });
    };
    run().catch((error: unknown) =>
      finish({
        state: 'failed',
        reason: error instanceof Error ? error.message : String(error),
        logTail: build.lines,
      }),
    );
    return { id };
  }

  async status(id: string): Promise<ImageBuildStatus | undefined> {
    return this.builds.get(id)?.status;
  }

  async stop(id: string): Promise<void> {
    const build = this.builds.get(id);
    if (!build) return;
    build.stopped = true;
    build.child?.kill('SIGTERM');
  }

  imageOf(ref: EnvironmentRef, sha: string, container: string): string {
    return `matinee-local/${ref.names.service}-${container}:${sha.slice(0, 12)}`;
  }

  /** Runs `docker` with `args`, its output to the log and the last lines kept; resolves its exit code. */
  private docker(build: LocalBuild, log: NodeJS.WritableStream, args: string[]): Promise<number> {
    return new Promise((done, fail) => {
      const child = spawn('docker', args, { env: this.options.env, stdio: ['ignore', 'pipe', 'pipe'] });
      build.child = child;
      let partial = '';
      const keep = (chunk: Buffer) => {
        log.write(chunk);
        const text = partial + chunk.toString('utf8');
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        build.lines.push(...lines);
        if (build.lines.length > KEPT_LINES) build.lines.splice(0, build.lines.length - KEPT_LINES);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      child.on('error', fail);
      child.on('close', (code) => {
        if (partial) build.lines.push(partial);
        done(code ?? 1);
      });
    });
  }
}
