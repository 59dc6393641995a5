import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient, ListBuildsForProjectCommand, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BUILD_VARIABLES, BUILDSPEC, CodeBuildImageBuilder, PROJECT_VARIABLES } from '@matinee/aws';
import { environmentId, environmentRef, type ImageBuildSpec } from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * The project's buildspec, run in bash as CodeBuild runs it: the phases in order, each phase's commands one
 * after another in one shell, a failing command ending its phase, and `on-failure: ABORT` ending the build.
 * The variables are the project's (stacks/build.ts) and the StartBuild overrides the real builder sends.
 * `aws` and `docker` are stubs on PATH that record their arguments: `aws s3 cp` hands over a tarball made
 * the way GitHub makes them (`git archive` with a top-level `<owner>-<repo>-<short sha>/`), `docker buildx
 * build` checks that its Dockerfile and context exist where it runs. Everything else (tar, jq, mapfile) is real.
 */
const SHA = 'c0ffee'.padEnd(40, '0');
const REPOSITORY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/matinee-test';
const BUCKET = 'matinee-test-sources-abc';
const PHASES = ['install', 'pre_build', 'build', 'post_build'] as const;

type Phase = { 'on-failure'?: string; commands: unknown[] };

const STUB_AWS = `#!/usr/bin/env bash
# Named by time and pid: the two ends of a pipe run at once.
printf '%s\\0' aws "$@" > "$STUB_DIR/calls/$(date +%s%N)-$$"
case "$1 $2" in
  "s3 cp")
    [ -n "\${STUB_FAIL_S3:-}" ] && { echo "fatal error: An error occurred (403)" >&2; exit 1; }
    cp "$STUB_DIR/source.tar.gz" "\${@: -1}" ;;
  "ecr get-login-password")
    [ -n "\${STUB_FAIL_ECR:-}" ] && { echo "Unable to locate credentials" >&2; exit 255; }
    echo stub-password ;;
  *) echo "aws stub: unexpected $*" >&2; exit 2 ;;
esac
`;

const STUB_DOCKER = `#!/usr/bin/env bash
call="$STUB_DIR/calls/$(date +%s%N)-$$"
printf '%s\\0' docker "$@" > "$call"
pwd > "$call.cwd"
case "$1 $2" in
  "login --username") cat > "$call.stdin" ;;
  "buildx create") ;;
  "buildx imagetools") grep -qxF -- "$4" "$STUB_DIR/existing" ;;
  "buildx build")
    [ -n "\${STUB_FAIL_BUILD:-}" ] && { echo "ERROR: failed to solve" >&2; exit 1; }
    file=; context=; after=
    for arg in "$@"; do
      if [ -n "$after" ]; then context=$arg; fi
      case "$arg" in --file=*) file=\${arg#--file=} ;; --) after=1 ;; esac
    done
    [ -f "$file" ] || { echo "stub docker: no Dockerfile $file" >&2; exit 1; }
    [ -d "$context" ] || { echo "stub docker: no context $context" >&2; exit 1; } ;;
  *) echo "docker stub: unexpected $*" >&2; exit 2 ;;
esac
`;

/** Runs every command of one phase in one bash, in order; the first that fails ends the phase with its status. */
const PHASE_RUNNER = `for command in "$@"; do
  eval "$(cat "$command")"
  status=$?
  if [ "$status" -ne 0 ]; then exit "$status"; fi
done
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'matinee-buildspec-'));
  for (const sub of ['bin', 'stub/calls', 'tmp', 'repo', 'home'])
    mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'stub/existing'), '');
  writeFileSync(join(dir, 'bin/aws'), STUB_AWS);
  writeFileSync(join(dir, 'bin/docker'), STUB_DOCKER);
  chmodSync(join(dir, 'bin/aws'), 0o755);
  chmodSync(join(dir, 'bin/docker'), 0o755);
  writeFileSync(join(dir, 'phase.sh'), PHASE_RUNNER);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The repository's files at the commit, as GitHub's tarball of it: `git archive` under `acme-web-c0ffee0/`. */
function tarball(files: Record<string, string>): Buffer {
  const repo = join(dir, 'repo');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(repo, path, '..'), { recursive: true });
    writeFileSync(join(repo, path), content);
  }
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-C', repo, ...args]);
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'source');
  const archive = git('archive', '--format=tar.gz', `--prefix=acme-web-${SHA.slice(0, 7)}/`, 'HEAD');
  writeFileSync(join(dir, 'stub/source.tar.gz'), archive);
  return archive;
}

/** What the real builder tells StartBuild for `images` of PR 42: the build's variables. */
async function overrides(images: ImageBuildSpec[], source: Buffer): Promise<Record<string, string>> {
  const codebuild = new CodeBuildClient({ region: 'eu-west-1' });
  const cb = mockClient(codebuild);
  cb.on(ListBuildsForProjectCommand).resolves({ ids: [] });
  cb.on(StartBuildCommand).resolves({ build: { id: 'matinee-test:1' } });
  const s3 = new S3Client({ region: 'eu-west-1' });
  mockClient(s3).on(PutObjectCommand).resolves({});
  const builder = new CodeBuildImageBuilder({
    codebuild,
    s3,
    logs: new CloudWatchLogsClient({ region: 'eu-west-1' }),
    archive: {
      download: async () =>
        (async function* () {
          yield new Uint8Array(source);
        })(),
    },
    stage: 'test',
    project: 'matinee-test',
    bucket: BUCKET,
    repositoryUrl: REPOSITORY,
  });
  const ref = environmentRef(
    { stage: 'test', domain: 'preview.example.com' },
    {
      id: environmentId('acme/web', 42),
      slug: 'fix-pr42',
      host: 'fix-pr42.preview.example.com',
      observed: { resources: {} },
    },
  );
  await builder.start({ ref, repo: 'acme/web', sha: SHA, attempt: 1, images });
  const variables = cb.commandCalls(StartBuildCommand)[0]?.args[0].input.environmentVariablesOverride ?? [];
  return Object.fromEntries(variables.map((v) => [v.name ?? '', v.value ?? '']));
}

/** Runs the buildspec's phases in bash with the project's variables and `variables`; how far it got. */
function runBuildspec(variables: Record<string, string>, stubs: Record<string, string> = {}) {
  const spec = parse(BUILDSPEC) as { env?: { shell?: string }; phases: Record<string, Phase> };
  const env = {
    PATH: `${join(dir, 'bin')}:/usr/bin:/bin`,
    HOME: join(dir, 'home'),
    TMPDIR: join(dir, 'tmp'),
    STUB_DIR: join(dir, 'stub'),
    [PROJECT_VARIABLES.bucket]: BUCKET,
    [PROJECT_VARIABLES.repository]: REPOSITORY,
    ...variables,
    ...stubs,
  };
  const ran: { phase: string; status: number; stderr: string }[] = [];
  for (const phase of PHASES) {
    const commands = spec.phases[phase]?.commands;
    if (!commands) continue;
    const files = commands.map((command, i) => {
      const file = join(dir, `${phase}-${i}.sh`);
      writeFileSync(file, String(command));
      return file;
    });
    const shell = spec.env?.shell ?? '/bin/sh';
    const result = spawnSync(shell, [join(dir, 'phase.sh'), ...files], { env, cwd: dir, encoding: 'utf8' });
    ran.push({ phase, status: result.status ?? -1, stderr: result.stderr });
    if (result.status !== 0 && spec.phases[phase]?.['on-failure'] === 'ABORT') break;
  }
  return ran;
}

/** Every stub call so far, in order: its argv, where it ran, and what it read on stdin. */
function calls() {
  const calls = join(dir, 'stub/calls');
  return readdirSync(calls)
    .filter((name) => /^\d+-\d+$/.test(name))
    .sort()
    .map((name) => {
      const file = join(calls, name);
      const read = (suffix: string) =>
        existsSync(file + suffix) ? readFileSync(file + suffix, 'utf8') : undefined;
      return {
        argv: readFileSync(file, 'utf8').split('\0').slice(0, -1),
        cwd: read('.cwd')?.trim(),
        stdin: read('.stdin'),
      };
    });
}

const app: ImageBuildSpec = {
  container: 'app',
  dockerfile: 'Dockerfile',
  context: '.',
  args: { NODE_ENV: 'production' },
};
const worker: ImageBuildSpec = {
  container: 'worker',
  dockerfile: 'worker/Dockerfile',
  context: 'worker',
  target: 'run',
  args: {},
};
const files = {
  Dockerfile: 'FROM scratch\n',
  'worker/Dockerfile': 'FROM scratch AS run\n',
  'worker/main.js': '1\n',
};

describe('the buildspec, run in bash as CodeBuild runs it', () => {
  it('is YAML whose every command is a string, in phases CodeBuild knows, run by bash', () => {
    const spec = parse(BUILDSPEC) as {
      version: unknown;
      env: { shell: string };
      phases: Record<string, Phase>;
    };
    expect(spec.version).toBe('0.2');
    expect(spec.env.shell).toBe('bash');
    for (const [name, phase] of Object.entries(spec.phases)) {
      expect(PHASES).toContain(name);
      expect(['ABORT', 'CONTINUE', undefined]).toContain(phase['on-failure']);
      for (const command of phase.commands) expect(typeof command).toBe('string');
    }
  });

  it("unpacks GitHub's tarball, logs in to the stage's registry, and builds each image from the source root", async () => {
    const source = tarball(files);
    const variables = await overrides([app, worker], source);
    const images = JSON.parse(variables[BUILD_VARIABLES.images] ?? '[]') as { ref: string; argv: string[] }[];

    const ran = runBuildspec(variables);

    expect(ran.map(({ phase, status }) => [phase, status])).toEqual([
      ['pre_build', 0],
      ['build', 0],
    ]);
    const work = join(dir, 'tmp/matinee');
    // The top-level directory is gone: the repository's root is the source directory, the tarball removed.
    expect(readFileSync(join(work, 'source/Dockerfile'), 'utf8')).toBe('FROM scratch\n');
    expect(existsSync(join(work, 'source/worker/main.js'))).toBe(true);
    expect(readdirSync(join(work, 'source')).sort()).toEqual(['Dockerfile', 'worker']);
    expect(existsSync(join(work, 'source.tar.gz'))).toBe(false);

    // `aws ecr get-login-password | docker login` run at once: their order is the scheduler's.
    const [copy, first, second, create, ...builds] = calls();
    const [password, login] = first?.argv[0] === 'aws' ? [first, second] : [second, first];
    expect(copy?.argv).toEqual([
      'aws',
      's3',
      'cp',
      '--only-show-errors',
      `s3://${BUCKET}/${variables[BUILD_VARIABLES.sourceKey]}`,
      join(work, 'source.tar.gz'),
    ]);
    expect(password?.argv).toEqual(['aws', 'ecr', 'get-login-password']);
    expect(login?.argv).toEqual([
      'docker',
      'login',
      '--username',
      'AWS',
      '--password-stdin',
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    ]);
    expect(login?.stdin).toBe('stub-password\n');
    expect(create?.argv).toEqual([
      'docker',
      'buildx',
      'create',
      '--name',
      'matinee',
      '--driver',
      'docker-container',
      '--use',
    ]);

    // Per image: is it there already (no), then build it with exactly the builder's argv, at the source root.
    expect(builds.map((call) => call.argv.slice(0, 3))).toEqual([
      ['docker', 'buildx', 'imagetools'],
      ['docker', 'buildx', 'build'],
      ['docker', 'buildx', 'imagetools'],
      ['docker', 'buildx', 'build'],
    ]);
    for (const [i, image] of images.entries()) {
      expect(builds[2 * i]?.argv).toEqual(['docker', 'buildx', 'imagetools', 'inspect', image.ref]);
      const build = builds[2 * i + 1];
      expect(build?.argv).toEqual([
        'docker',
        'buildx',
        'build',
        '--push',
        '--provenance=false',
        '--platform',
        'linux/amd64',
        ...image.argv,
      ]);
      expect(build?.cwd).toBe(join(work, 'source'));
    }
    const [appBuild, workerBuild] = [builds[1]?.argv ?? [], builds[3]?.argv ?? []];
    expect(appBuild).toContain(`--tag=${REPOSITORY}:fix-pr42-${SHA}`);
    expect(appBuild).toContain('--build-arg=NODE_ENV=production');
    expect(appBuild.slice(-2)).toEqual(['--', '.']);
    expect(workerBuild).toContain(`--tag=${REPOSITORY}:fix-pr42-${SHA}-worker`);
    expect(workerBuild).toEqual(expect.arrayContaining(['--file=worker/Dockerfile', '--target=run']));
    expect(workerBuild.slice(-2)).toEqual(['--', 'worker']);
    // Each image reads and writes its own environment's cache, and only that.
    for (const argv of [appBuild, workerBuild]) {
      const refs = argv.filter((a) => a.startsWith('--cache-')).map((a) => /ref=([^,]+)/.exec(a)?.[1]);
      expect(refs).toHaveLength(2);
      expect(refs[0]).toBe(refs[1]);
      expect(refs[0]).toMatch(
        new RegExp(`^${REPOSITORY.replace(/[.]/g, '\\.')}:cache_fix-pr42_[0-9a-f]{16}$`),
      );
    }
    expect(appBuild.find((a) => a.startsWith('--cache-to'))).not.toBe(
      workerBuild.find((a) => a.startsWith('--cache-to')),
    );
  });

  it('builds only the images whose tag does not exist yet (a retry after a partial push)', async () => {
    const variables = await overrides([app, worker], tarball(files));
    const images = JSON.parse(variables[BUILD_VARIABLES.images] ?? '[]') as { ref: string }[];
    writeFileSync(join(dir, 'stub/existing'), `${images[0]?.ref}\n`);

    expect(runBuildspec(variables).map((r) => r.status)).toEqual([0, 0]);
    const built = calls().filter((call) => call.argv[2] === 'build');
    expect(built).toHaveLength(1);
    expect(built[0]?.argv).toContain(`--tag=${images[1]?.ref}`);
  });

  it('stops before building when the source cannot be fetched', async () => {
    const variables = await overrides([app], tarball(files));
    const ran = runBuildspec(variables, { STUB_FAIL_S3: '1' });
    expect(ran.map((r) => [r.phase, r.status])).toEqual([['pre_build', 1]]);
    expect(ran[0]?.stderr).toContain('403');
    expect(calls().map((call) => call.argv.slice(0, 3))).toEqual([['aws', 's3', 'cp']]);
  });

  it('stops when the registry password cannot be had, though docker login after the pipe succeeds', async () => {
    const variables = await overrides([app], tarball(files));
    const ran = runBuildspec(variables, { STUB_FAIL_ECR: '1' });
    expect(ran.map((r) => [r.phase, r.status])).toEqual([['pre_build', 255]]);
    expect(calls().some((call) => call.argv[2] === 'build')).toBe(false);
  });

  it('fails the build at the first image that fails, building none after it', async () => {
    const variables = await overrides([app, worker], tarball(files));
    const ran = runBuildspec(variables, { STUB_FAIL_BUILD: '1' });
    expect(ran.map((r) => [r.phase, r.status])).toEqual([
      ['pre_build', 0],
      ['build', 1],
    ]);
    expect(calls().filter((call) => call.argv[2] === 'build')).toHaveLength(1);
  });

  it('hands hostile paths, target and build args from .matinee.yml to docker as they are, running none of them', async () => {
    const hostileDir = 'ctx;touch PWNED;$(touch PWNED)`touch PWNED`';
    const hostileFile = `${hostileDir}/$(touch PWNED).Dockerfile`;
    const source = tarball({ ...files, [hostileFile]: 'FROM scratch\n' });
    const args = {
      SUBST: '$(touch PWNED)',
      BACKTICK: '`touch PWNED`',
      QUOTES: `"; touch PWNED; echo "' ; touch PWNED ; '`,
      NEWLINE: 'x\ntouch PWNED\n',
      OPTION: '--output=type=local,dest=/',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, which must stay text
      EXPANSION: '${HOME} $IMAGES ${IFS}*',
      GLOB: '* ? [a-z]',
    };
    const image: ImageBuildSpec = {
      container: 'app',
      dockerfile: hostileFile,
      context: hostileDir,
      target: 'prod.1-x_y',
      args,
    };
    const variables = await overrides([image], source);
    const [expected] = JSON.parse(variables[BUILD_VARIABLES.images] ?? '[]') as { argv: string[] }[];

    const ran = runBuildspec(variables);

    expect(ran.map((r) => [r.phase, r.status])).toEqual([
      ['pre_build', 0],
      ['build', 0],
    ]);
    const build = calls().find((call) => call.argv[2] === 'build');
    expect(build?.argv.slice(7)).toEqual(expected?.argv);
    expect(build?.argv).toContain(`--file=${hostileFile}`);
    expect(build?.argv.slice(-2)).toEqual(['--', hostileDir]);
    for (const [name, value] of Object.entries(args))
      expect(build?.argv).toContain(`--build-arg=${name}=${value}`);
    expect(build?.argv.filter((a) => a.startsWith('--output'))).toEqual([]);
    // Nothing ran: no PWNED anywhere the build could write.
    const found = execFileSync('find', [dir, '-name', 'PWNED'], { encoding: 'utf8' });
    expect(found).toBe('');
  });
});
