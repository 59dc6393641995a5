import { randomBytes } from 'node:crypto';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient, type EnvironmentVariable } from '@aws-sdk/client-codebuild';
import { CreateRepositoryCommand, ECRClient, ListImagesCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CodeBuildImageBuilder, cacheTag, EcrImages, imageTag, sourceKey } from '@matinee/aws';
import { environmentId, environmentRef, type ImageBuildRequest, type SourceArchive } from '@matinee/core';
import { describe, expect, inject, it } from 'vitest';
import { motoCodeBuildGaps } from './support/codebuild-stand-in.ts';
import { createBuildProject, motoClient, REGION } from './support/moto-stage.ts';

/**
 * The CodeBuild builder and the ECR images on moto's CodeBuild, S3 and ECR: the tarball streamed into the
 * bucket (multipart past a part), one build per environment, sha and attempt, its status, stop, and the
 * images of an environment removed without touching another's.
 *
 * moto's gaps, supplied here only: StartBuild keeps no `environmentVariablesOverride` (a middleware on the
 * builder's client adds them to what BatchGetBuilds answers for that build, as CodeBuild does); a NO_SOURCE
 * project needs a `location`; BatchGetBuilds finishes every build (SUCCEEDED) the first time it is asked, so
 * queued, building and failed builds are the stateful fake's (test/unit/aws-codebuild-image-builder.test.ts).
 */
const SHA = 'c'.repeat(40);
const OTHER_SHA = 'd'.repeat(40);

async function stage(endpoint: string) {
  const name = `emu-${randomBytes(4).toString('hex')}`;
  const calls: string[] = [];
  const record = (call: string) => calls.push(call);
  const codebuild = motoClient(CodeBuildClient, endpoint, { name: 'CodeBuild', record });
  const s3 = new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: creds,
    maxAttempts: 1,
  });
  s3.middlewareStack.add(
    (next, context) => (args) => {
      record(`S3:${(context.commandName ?? '?').replace(/Command$/, '')}`);
      return next(args);
    },
    { step: 'initialize', name: 'recordCall' },
  );
  const ecr = motoClient(ECRClient, endpoint, { name: 'ECR', record });
  const logs = motoClient(CloudWatchLogsClient, endpoint);
  motoCodeBuildGaps(codebuild);

  const admin = {
    s3: new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials: creds }),
    ecr: motoClient(ECRClient, endpoint),
    codebuild: motoCodeBuildGaps(motoClient(CodeBuildClient, endpoint)),
  };
  const bucket = `${name}-sources`;
  await admin.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const { repository } = await admin.ecr.send(
    new CreateRepositoryCommand({ repositoryName: `matinee-${name}` }),
  );
  await createBuildProject(
    admin.codebuild,
    `matinee-${name}`,
    'arn:aws:iam::123456789012:role/matinee-build',
  );
  return {
    name,
    calls,
    codebuild,
    s3,
    ecr,
    logs,
    admin,
    bucket,
    repository: repository?.repositoryName ?? '',
    repositoryUrl: repository?.repositoryUri ?? '',
  };
}
const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** A tarball of `size` bytes in 1 MiB chunks, counting how often it was downloaded. */
function archive(size: number) {
  const body = randomBytes(size);
  const downloads: string[] = [];
  const source: SourceArchive = {
    async download(repo, sha) {
      downloads.push(`${repo}@${sha}`);
      return (async function* () {
        for (let i = 0; i < body.length; i += 1024 * 1024) yield body.subarray(i, i + 1024 * 1024);
      })();
    },
  };
  return { body, downloads, source };
}

function ref(stageName: string, pr: number) {
  const slug = `fix-pr${pr}`;
  return environmentRef(
    { stage: stageName, domain: 'preview.example.com' },
    {
      id: environmentId('acme/web', pr),
      slug,
      host: `${slug}.preview.example.com`,
      observed: { resources: {} },
    },
  );
}

function request(stageName: string, pr = 42, sha = SHA, attempt = 1): ImageBuildRequest {
  return {
    ref: ref(stageName, pr),
    repo: 'acme/web',
    sha,
    attempt,
    images: [
      { container: 'app', dockerfile: 'Dockerfile', context: '.', args: { NODE_ENV: 'production' } },
      { container: 'worker', dockerfile: 'worker/Dockerfile', context: 'worker', target: 'run', args: {} },
    ],
  };
}

describe.skipIf(!inject('motoEndpoint'))('building on moto', () => {
  it('streams the tarball into the bucket and starts one build per environment, sha and attempt', async () => {
    const moto = await stage(inject('motoEndpoint'));
    const source = archive(9 * 1024 * 1024 + 123);
    const builder = new CodeBuildImageBuilder({
      ...moto,
      archive: source.source,
      stage: moto.name,
      project: `matinee-${moto.name}`,
    });

    const first = await builder.start(request(moto.name));
    expect(first.id).toMatch(new RegExp(`^matinee-${moto.name}:`));
    // Past one part: a multipart upload, whose object is the tarball, byte for byte, with no metadata.
    expect(moto.calls).toEqual(
      expect.arrayContaining(['S3:CreateMultipartUpload', 'S3:UploadPart', 'S3:CompleteMultipartUpload']),
    );
    const key = sourceKey(environmentId('acme/web', 42), SHA, 1);
    const object = await moto.admin.s3.send(new GetObjectCommand({ Bucket: moto.bucket, Key: key }));
    expect(Buffer.from((await object.Body?.transformToByteArray()) ?? []).equals(source.body)).toBe(true);
    const head = await moto.admin.s3.send(new HeadObjectCommand({ Bucket: moto.bucket, Key: key }));
    expect(head.Metadata).toEqual({});

    // The same three again: the build is found, nothing is downloaded or started.
    moto.calls.length = 0;
    expect((await builder.start(request(moto.name))).id).toBe(first.id);
    expect(source.downloads).toHaveLength(1);
    expect(moto.calls.filter((c) => c === 'CodeBuild:StartBuild' || c.startsWith('S3:'))).toEqual([]);

    // Another attempt, sha or environment: another build.
    const retry = await builder.start(request(moto.name, 42, SHA, 2));
    const pushed = await builder.start(request(moto.name, 42, OTHER_SHA));
    const neighbour = await builder.start(request(moto.name, 7));
    expect(new Set([first.id, retry.id, pushed.id, neighbour.id]).size).toBe(4);
    expect(source.downloads).toHaveLength(4);
  });

  it('tells a build with the variables that name its environment, commit, source and images', async () => {
    const moto = await stage(inject('motoEndpoint'));
    const builder = new CodeBuildImageBuilder({
      ...moto,
      archive: archive(10).source,
      stage: moto.name,
      project: `matinee-${moto.name}`,
    });
    const started: { input: Record<string, unknown> }[] = [];
    moto.codebuild.middlewareStack.add(
      (next) => async (args) => {
        started.push(args as { input: Record<string, unknown> });
        return next(args);
      },
      { step: 'initialize', name: 'seeStart' },
    );
    await builder.start(request(moto.name));
    const start = started.find((s) => 'environmentVariablesOverride' in s.input)?.input;
    const overrides = (start?.environmentVariablesOverride ?? []) as EnvironmentVariable[];
    const variables = Object.fromEntries(overrides.map((v) => [v.name, v.value]));
    expect(variables.PREVIEW_ENVIRONMENT).toBe('acme/web:42');
    expect(variables.PREVIEW_SHA).toBe(SHA);
    expect(variables.SOURCE_KEY).toBe(sourceKey(environmentId('acme/web', 42), SHA, 1));
    const images = JSON.parse(variables.IMAGES ?? '[]');
    expect(images.map((i: { ref: string }) => i.ref)).toEqual([
      `${moto.repositoryUrl}:fix-pr42-${SHA}`,
      `${moto.repositoryUrl}:fix-pr42-${SHA}-worker`,
    ]);
    expect(images[1].argv).toEqual(
      expect.arrayContaining(['--file=worker/Dockerfile', '--target=run', '--', 'worker']),
    );
    expect(images[0].argv).toEqual(expect.arrayContaining(['--build-arg=NODE_ENV=production']));
    // Every variable is plain text, and none is a credential.
    expect(overrides.every((v) => v.type === 'PLAINTEXT')).toBe(true);
    expect(JSON.stringify(overrides)).not.toMatch(/ghs_|github_pat_|authorization|bearer/i);
  });

  it('reports a finished build, stops one (twice is fine), and knows no unknown build', async () => {
    const moto = await stage(inject('motoEndpoint'));
    const builder = new CodeBuildImageBuilder({
      ...moto,
      archive: archive(10).source,
      stage: moto.name,
      project: `matinee-${moto.name}`,
    });
    const { id } = await builder.start(request(moto.name));
    expect(await builder.status(id)).toMatchObject({ state: 'succeeded' });

    // moto answers BatchGetBuilds with SUCCEEDED whatever happened since: a stop's status is the fake's to show.
    const other = await builder.start(request(moto.name, 42, OTHER_SHA));
    moto.calls.length = 0;
    await builder.stop(other.id);
    await builder.stop(other.id);
    expect(moto.calls).toEqual(['CodeBuild:StopBuild', 'CodeBuild:StopBuild']);
    expect(await builder.status(`matinee-${moto.name}:00000000-0000-0000-0000-000000000000`)).toBeUndefined();
  });

  it("removes an environment's images and layer caches, and only its own; the resync those of the gone", async () => {
    const moto = await stage(inject('motoEndpoint'));
    const images = new EcrImages({ ecr: moto.ecr, stage: moto.name, repository: moto.repository });
    const manifest = (n: number) =>
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: {
          digest: `sha256:${String(n).padStart(64, '0')}`,
          size: 1,
          mediaType: 'application/vnd.docker.container.image.v1+json',
        },
        layers: [],
      });
    const pr42 = environmentId('acme/web', 42);
    const neighbour = environmentId('acme/web', 4242);
    const tags = {
      own: [
        imageTag('fix-pr42', SHA, 'app'),
        imageTag('fix-pr42', SHA, 'worker'),
        imageTag('fix-pr42', OTHER_SHA, 'app'),
        cacheTag('fix-pr42', pr42, 'app'),
        cacheTag('fix-pr42', pr42, 'worker'),
      ],
      // Another environment whose slug starts the same: its images and its cache.
      neighbour: [imageTag('fix-pr42-1a2b3c4d', SHA, 'app'), cacheTag('fix-pr42-1a2b3c4d', neighbour, 'app')],
      // The cache a repository's pull requests shared before, and a tag Matinee never writes.
      shared: ['cache-0123456789abcdef'],
      foreign: ['latest'],
    };
    for (const [n, imageTag] of Object.values(tags).flat().entries())
      await moto.admin.ecr.send(
        new PutImageCommand({ repositoryName: moto.repository, imageManifest: manifest(n), imageTag }),
      );
    const left = async () =>
      ((await moto.admin.ecr.send(new ListImagesCommand({ repositoryName: moto.repository }))).imageIds ?? [])
        .map((i) => i.imageTag)
        .sort();

    // Closing PR 42 removes its images and caches, nothing of the neighbour's.
    expect((await images.remove(ref(moto.name, 42))).sort()).toEqual([...tags.own].sort());
    expect(await left()).toEqual([...tags.neighbour, ...tags.shared, ...tags.foreign].sort());
    // Again: nothing left of it, nothing else touched.
    expect(await images.remove(ref(moto.name, 42))).toEqual([]);

    // The resync keeps what a live environment has, removes the gone one's and the shared cache.
    expect((await images.prune(new Set(['fix-pr42-1a2b3c4d']))).sort()).toEqual([...tags.shared]);
    expect(await left()).toEqual([...tags.neighbour, ...tags.foreign].sort());
    expect((await images.prune(new Set())).sort()).toEqual([...tags.neighbour].sort());
    expect(await left()).toEqual(tags.foreign);
  });
});
