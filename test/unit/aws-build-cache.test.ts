import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient, ListBuildsForProjectCommand, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  BUILD_VARIABLES,
  buildArgv,
  CodeBuildImageBuilder,
  cacheTag,
  imageTag,
  isSharedCacheTag,
  isTagOf,
  slugOfTag,
} from '@matinee/aws';
import { environmentId, environmentRef, type ImageBuildSpec } from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';

/**
 * Layer caches are per environment: a hostile pull request's build can fill only its own cache, which no
 * other pull request's build (nor a later holder of its slug) reads.
 */
const SHA = 'a'.repeat(40);
const REPO_URL = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/matinee-test';

const refOf = (repo: string, pr: number, slug: string) =>
  environmentRef(
    { stage: 'test', domain: 'preview.example.com' },
    { id: environmentId(repo, pr), slug, host: `${slug}.preview.example.com`, observed: { resources: {} } },
  );

/** The builder against a CodeBuild that records StartBuild, and the `IMAGES` each build was given. */
function builder() {
  const codebuild = new CodeBuildClient({ region: 'eu-west-1' });
  const cb = mockClient(codebuild);
  cb.on(ListBuildsForProjectCommand).resolves({ ids: [] });
  cb.on(StartBuildCommand).callsFake(() => ({ build: { id: `matinee-test:${cb.calls().length}` } }));
  const s3 = new S3Client({ region: 'eu-west-1' });
  mockClient(s3).on(PutObjectCommand).resolves({});
  const images = new CodeBuildImageBuilder({
    codebuild,
    s3,
    logs: new CloudWatchLogsClient({ region: 'eu-west-1' }),
    archive: {
      download: async () =>
        (async function* () {
          yield new Uint8Array([1]);
        })(),
    },
    stage: 'test',
    project: 'matinee-test',
    bucket: 'sources',
    repositoryUrl: REPO_URL,
  });
  const started = () =>
    cb.commandCalls(StartBuildCommand).map((call) => {
      const variables = call.args[0].input.environmentVariablesOverride ?? [];
      const json = variables.find((v) => v.name === BUILD_VARIABLES.images)?.value ?? '[]';
      return JSON.parse(json) as { ref: string; argv: string[] }[];
    });
  return { images, started };
}

const app: ImageBuildSpec = { container: 'app', dockerfile: 'Dockerfile', context: '.', args: {} };
const worker: ImageBuildSpec = { container: 'worker', dockerfile: 'Dockerfile', context: 'worker', args: {} };

/** The cache refs an image's argv reads from and writes to. */
function caches(argv: string[]) {
  const value = (flag: string) =>
    argv
      .filter((arg) => arg.startsWith(`${flag}=`))
      .map((arg) => /ref=([^,]+)/.exec(arg)?.[1])
      .filter(Boolean);
  return { from: value('--cache-from'), to: value('--cache-to') };
}

describe('the layer cache of a build', () => {
  it('is read and written only by its own environment, one per container', async () => {
    const { images, started } = builder();
    const pr42 = refOf('acme/web', 42, 'fix-pr42');
    const pr7 = refOf('acme/web', 7, 'feature-pr7');
    await images.start({ ref: pr42, repo: 'acme/web', sha: SHA, attempt: 1, images: [app, worker] });
    await images.start({ ref: pr7, repo: 'acme/web', sha: SHA, attempt: 1, images: [app] });

    const [[app42, worker42], [app7]] = started() as unknown as [
      [{ argv: string[] }, { argv: string[] }],
      [{ argv: string[] }],
    ];
    const own = (slug: string, id: string, container: string) =>
      `${REPO_URL}:${cacheTag(slug, id, container)}`;
    expect(caches(app42.argv)).toEqual({
      from: [own('fix-pr42', pr42.id, 'app')],
      to: [own('fix-pr42', pr42.id, 'app')],
    });
    expect(caches(worker42.argv)).toEqual({
      from: [own('fix-pr42', pr42.id, 'worker')],
      to: [own('fix-pr42', pr42.id, 'worker')],
    });
    expect(caches(app7.argv)).toEqual({
      from: [own('feature-pr7', pr7.id, 'app')],
      to: [own('feature-pr7', pr7.id, 'app')],
    });
    // PR 7 of the same repository reads nothing PR 42 wrote, and the other way round.
    const written42 = [...caches(app42.argv).to, ...caches(worker42.argv).to];
    expect(written42).not.toContain(caches(app7.argv).from[0]);
    expect(caches(app42.argv).from).not.toContain(caches(app7.argv).to[0]);
    expect(caches(app42.argv).to[0]).toMatch(/:cache_fix-pr42_[0-9a-f]{16}$/);
  });

  it("differs for a slug taken again by another repository's pull request", () => {
    const first = cacheTag('fix-pr42', environmentId('acme/web', 42), 'app');
    const again = cacheTag('fix-pr42', environmentId('evil/fork', 42), 'app');
    expect(again).not.toBe(first);
    expect(slugOfTag(again)).toBe('fix-pr42');
  });

  it("is one of its environment's tags, removed with it, and never another slug's", () => {
    const tag = cacheTag('fix-pr42', environmentId('acme/web', 42), 'app');
    expect(tag).toMatch(/^cache_fix-pr42_[0-9a-f]{16}$/);
    expect(tag.length).toBeLessThanOrEqual(128);
    expect(isTagOf('fix-pr42', tag)).toBe(true);
    expect(isTagOf('fix-pr4', tag)).toBe(false);
    expect(isTagOf('pr42', tag)).toBe(false);
    expect(slugOfTag(tag)).toBe('fix-pr42');
    // The longest slug still fits a tag.
    const long = 'a'.repeat(63);
    expect(cacheTag(long, environmentId('acme/web', 1), 'app').length).toBeLessThanOrEqual(128);
    expect(slugOfTag(cacheTag(long, environmentId('acme/web', 1), 'app'))).toBe(long);
  });

  it('never looks like an image tag, nor an image tag like a cache, whatever the slug', () => {
    // A branch named `cache-…` gives a slug that starts like the caches of before.
    const image = imageTag('cache-0123456789abcdef-pr1', SHA, 'app');
    expect(slugOfTag(image)).toBe('cache-0123456789abcdef-pr1');
    expect(isSharedCacheTag(image)).toBe(false);
    expect(image.startsWith('cache_')).toBe(false);
    const cache = cacheTag(`x-${'b'.repeat(40)}-pr1`, environmentId('acme/web', 1), 'app');
    expect(slugOfTag(cache)).toBe(`x-${'b'.repeat(40)}-pr1`);
  });

  it('of before, shared by a repository, is recognised for removal and nothing else is', () => {
    expect(isSharedCacheTag('cache-0123456789abcdef')).toBe(true);
    expect(slugOfTag('cache-0123456789abcdef')).toBeUndefined();
    expect(isSharedCacheTag(cacheTag('fix-pr42', environmentId('acme/web', 42), 'app'))).toBe(false);
    expect(isSharedCacheTag('latest')).toBe(false);
  });
});

describe('the buildx arguments of an image', () => {
  const cache = `${REPO_URL}:cache_fix-pr42_0123456789abcdef`;

  it('give every option as one --name=value element, and the context after --', () => {
    const argv = buildArgv(
      {
        container: 'app',
        dockerfile: 'docker/web.Dockerfile',
        context: 'web',
        target: 'prod',
        args: { A: '1' },
      },
      `${REPO_URL}:fix-pr42-${SHA}`,
      cache,
    );
    expect(argv).toEqual([
      '--file=docker/web.Dockerfile',
      `--tag=${REPO_URL}:fix-pr42-${SHA}`,
      '--target=prod',
      '--build-arg=A=1',
      `--cache-from=type=registry,ref=${cache}`,
      `--cache-to=type=registry,ref=${cache},mode=max,image-manifest=true,oci-mediatypes=true`,
      '--',
      'web',
    ]);
  });

  it('keep a value that looks like an option inside its own element', () => {
    const argv = buildArgv(
      { container: 'app', dockerfile: 'Dockerfile', context: '.', args: { A: '--output=type=local,dest=/' } },
      'r',
      cache,
    );
    expect(argv).toContain('--build-arg=A=--output=type=local,dest=/');
    expect(argv.filter((arg) => arg.startsWith('--output'))).toEqual([]);
  });

  it('refuse a NUL, which would split one element into two', () => {
    const spec = { container: 'app', dockerfile: 'Dockerfile', context: '.', args: { A: 'x\0--push' } };
    expect(() => buildArgv(spec, 'r', cache)).toThrow(/NUL/);
    expect(() => buildArgv({ ...app, target: 'prod\0--push' }, 'r', cache)).toThrow(/not a Dockerfile stage/);
  });

  it('refuse a target that is not a stage name, and an option for a context', () => {
    expect(() => buildArgv({ ...app, target: '-x' }, 'r', cache)).toThrow(/not a Dockerfile stage name/);
    expect(() => buildArgv({ ...app, target: 'a b' }, 'r', cache)).toThrow(/not a Dockerfile stage name/);
    expect(() => buildArgv({ ...app, context: '--file=/etc/passwd' }, 'r', cache)).toThrow(
      /inside the repository/,
    );
  });
});
