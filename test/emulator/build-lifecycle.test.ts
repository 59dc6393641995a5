import { randomBytes } from 'node:crypto';
import { ListImagesCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { imageTag } from '@matinee/aws';
import { resourceNames } from '@matinee/core';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { resyncWithGithub } from '../../functions/resync.ts';
import { ID, pullRequest, REPO, SHA_1, SHA_2, serveRepo } from '../support/aws-deployment.ts';
import { BUILD_CONFIG } from '../support/configs.ts';
import { serveCodeload } from '../support/fake-codeload.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { Holdings } from './support/holdings.ts';
import { type MotoDeployment, motoDeployment } from './support/moto-deployment.ts';

/**
 * `.matinee.yml` `build:` through every Lambda handler on moto: the real CodeBuild builder, S3 upload and ECR
 * images, with CodeBuild's progress and its "Build State Change" events supplied by support/codebuild-stand-in.ts
 * and routed by moto's rule with the stacks' pattern. Every call is simulated against the stage's IAM policies
 * after the file (support/iam-check.ts), as the function that made it.
 */
let github: FakeGithub;
let codeload: Awaited<ReturnType<typeof serveCodeload>>;
beforeEach(async () => {
  github = await new FakeGithub().start();
  serveRepo(github);
  for (const sha of [SHA_1, SHA_2]) github.files.set(`${REPO}@${sha}:.matinee.yml`, BUILD_CONFIG);
  // Past one 8 MiB part: the upload is multipart.
  codeload = await serveCodeload(github, randomBytes(9 * 1024 * 1024));
});
afterEach(async () => {
  await codeload.stop();
  await github.stop();
});

const print = Boolean(process.env.MATINEE_PRINT_AWS_CALLS);
const SLUG = 'fix-login-pr42';
const open = (d: MotoDeployment) =>
  d.step('open', () => d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')));

/** The tags in the stage's repository. */
async function tags(d: MotoDeployment): Promise<string[]> {
  const { imageIds } = await d.moto.admin.ecr.send(
    new ListImagesCommand({ repositoryName: d.moto.settings.build?.repository }),
  );
  return (imageIds ?? []).map((image) => image.imageTag ?? '').sort();
}

describe.skipIf(!inject('motoEndpoint'))('building images on moto, through every Lambda handler', () => {
  it('opens: the tarball into the bucket, one build, its image in the task definition, ready', async () => {
    const d = await motoDeployment(github, { print });
    const calls = await open(d);

    const env = await d.platform.store.get(ID);
    expect(env?.observed.phase).toBe('ready');
    expect(env?.build).toMatchObject({ sha: SHA_1, attempt: 1, state: 'succeeded' });
    expect(codeload.downloads).toHaveLength(1);
    expect(calls.filter((call) => call === 'CodeBuild:StartBuild')).toHaveLength(1);
    expect(calls).toEqual(expect.arrayContaining(['S3:CreateMultipartUpload', 'S3:CompleteMultipartUpload']));
    const { Contents } = await d.moto.admin.s3.send(
      new ListObjectsV2Command({ Bucket: d.moto.settings.build?.bucket }),
    );
    expect(Contents?.map((object) => object.Key)).toEqual([expect.stringMatching(/^sources\//)]);

    const image = `${d.moto.settings.build?.repositoryUrl}:${imageTag(SLUG, SHA_1, 'app')}`;
    expect(await tags(d)).toEqual([imageTag(SLUG, SHA_1, 'app')]);
    const [revision] = await new Holdings(d.moto, d.ecs).taskDefinitions(
      resourceNames(d.moto.stage, ID, SLUG).family,
    );
    expect(revision?.containerDefinitions?.find((c) => c.name === 'app')?.image).toBe(image);
    // The sidecar keeps its pulled image.
    expect(revision?.containerDefinitions?.find((c) => c.name === 'db')?.image).toBe('postgres:16');
  });

  it('a push stops the queued build of the older commit; close and resync remove the images', async () => {
    const d = await motoDeployment(github, { print });
    d.builds.held.add(SHA_1);
    await open(d);
    expect((await d.platform.store.get(ID))?.build).toMatchObject({ sha: SHA_1, state: 'queued' });

    github.pulls[0] = { number: 42, head: { sha: SHA_2 } };
    const pushed = await d.step('push', () =>
      d.webhook('pull_request', pullRequest('synchronize', SHA_2, '2026-11-22T12:00:00Z')),
    );
    expect(pushed.filter((call) => call === 'CodeBuild:StopBuild')).toHaveLength(1);
    const env = await d.platform.store.get(ID);
    expect(env?.observed.phase).toBe('ready');
    expect(env?.build).toMatchObject({ sha: SHA_2, state: 'succeeded' });
    expect(await tags(d)).toEqual([imageTag(SLUG, SHA_2, 'app')]);

    // Closed: its images go with it (the reconcile). An image of an environment long gone: the resync.
    github.pulls.splice(0);
    await d.step('close', () =>
      d.webhook('pull_request', pullRequest('closed', SHA_2, '2026-11-22T13:00:00Z', { state: 'closed' })),
    );
    expect(await tags(d)).toEqual([]);
    await d.moto.admin.ecr.send(
      new PutImageCommand({
        repositoryName: d.moto.settings.build?.repository,
        imageTag: imageTag('gone-pr7', SHA_1, 'app'),
        imageManifest: JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
          config: {
            digest: `sha256:${'7'.repeat(64)}`,
            size: 1,
            mediaType: 'application/vnd.docker.container.image.v1+json',
          },
          layers: [],
        }),
      }),
    );
    await d.as('resync', () => resyncWithGithub(d.platform, {}));
    expect(await tags(d)).toEqual([]);
  });

  it('a failed build fails the environment with the end of its log, and runs nothing', async () => {
    const d = await motoDeployment(github, { print });
    d.builds.failing.set(SHA_1, [
      '#7 [3/4] RUN npm ci',
      'npm error code E404',
      'ERROR: process "npm ci" exit 1',
    ]);
    await open(d);

    const env = await d.platform.store.get(ID);
    expect(env?.observed.phase).toBe('failed');
    expect(env?.observed.failure?.reason).toMatch(/image build of 1111111 failed: docker build failed/);
    expect(env?.observed.failure?.reason).toContain('npm error code E404');
    expect(await new Holdings(d.moto, d.ecs).activeServices()).toEqual([]);
  });
});
