import {
  type EnvironmentRef,
  type ImageBuildSpec,
  MatineeError,
  shortHash,
  slugFromFamily,
} from '@matinee/core';

/**
 * What a CodeBuild build of Matinee does, as plain data shared by the stacks (the project's buildspec, the
 * build role's source prefix) and the builder (the object key, the image tags, each image's `buildx` argv).
 *
 * The source is the commit's tarball from GitHub, which the control plane put in the stage's bucket: CodeBuild's
 * own S3 source takes only zip files, so the project has no source and the build copies the object named by
 * `SOURCE_KEY` itself, with the build role (read under `sources/` only). No GitHub token is ever in the build.
 *
 * `IMAGES` is a JSON list of `{ ref, argv }`: argv is passed to `docker buildx build` as an array (jq writes
 * it NUL-separated, bash reads it with mapfile), so nothing from `.matinee.yml` is ever parsed by a shell.
 * An image whose tag already exists is not built again (tags are immutable): a retry builds what is missing.
 */
export const BUILD_SOURCE_PREFIX = 'sources/';
/** Layer caches (buildx registry cache) live in the stage repository under tags starting with this. */
export const CACHE_TAG_PREFIX = 'cache-';
/** What every log line of Matinee's own in a build starts with. */
export const BUILD_LOG_MARK = 'matinee:';

/** The variables a build carries besides the project's: what it builds, and whose it is (for its events). */
export const BUILD_VARIABLES = {
  environment: 'PREVIEW_ENVIRONMENT',
  sha: 'PREVIEW_SHA',
  attempt: 'PREVIEW_ATTEMPT',
  sourceKey: 'SOURCE_KEY',
  images: 'IMAGES',
} as const;

export const BUILDSPEC = `version: 0.2
env:
  shell: bash
phases:
  pre_build:
    on-failure: ABORT
    commands:
      - echo "${BUILD_LOG_MARK} fetching the source of $PREVIEW_SHA"
      - aws s3 cp --only-show-errors "s3://$SOURCE_BUCKET/$SOURCE_KEY" /tmp/source.tar.gz
      - mkdir -p /tmp/source && tar -xzf /tmp/source.tar.gz -C /tmp/source --strip-components=1 --no-same-owner
      - rm /tmp/source.tar.gz
      - aws ecr get-login-password | docker login --username AWS --password-stdin "\${REPOSITORY%%/*}" > /dev/null
      - docker buildx create --name matinee --driver docker-container --use > /dev/null
  build:
    on-failure: ABORT
    commands:
      - |
        set -euo pipefail
        cd /tmp/source
        count=$(jq 'length' <<< "$IMAGES")
        for ((i = 0; i < count; i++)); do
          ref=$(jq -r --argjson i "$i" '.[$i].ref' <<< "$IMAGES")
          if docker buildx imagetools inspect "$ref" > /dev/null 2>&1; then
            echo "${BUILD_LOG_MARK} $ref exists already"
            continue
          fi
          mapfile -d '' -t argv < <(jq -j --argjson i "$i" '.[$i].argv[] | (. + "\\u0000")' <<< "$IMAGES")
          echo "${BUILD_LOG_MARK} building $ref"
          docker buildx build --push --provenance=false --platform linux/amd64 "\${argv[@]}"
        done
`;

/** `<slug>`, the part of an environment's names that is its own (family `matinee-<stage>_<slug>`). */
export function slugOf(stage: string, ref: Pick<EnvironmentRef, 'names'>): string {
  const slug = slugFromFamily(stage, ref.names.family);
  if (!slug) throw new MatineeError(`${ref.names.family} is not an environment of stage ${stage}`);
  return slug;
}

const SHA = /^[0-9a-f]{40}$/;
const MAX_TAG = 128;
const TAG_PART = /^[a-z0-9][a-z0-9_.-]*$/;

/**
 * The image tag of `container` at `sha`: `<slug>-<sha>` for the app, `<slug>-<sha>-<container>` for a sidecar
 * (its name hashed when it is not a plain tag part or would pass ECR's 128 characters).
 */
export function imageTag(slug: string, sha: string, container: string): string {
  if (!SHA.test(sha)) throw new MatineeError(`not a commit sha: ${JSON.stringify(sha)}`);
  const base = `${slug}-${sha}`;
  if (container === 'app') return base;
  const part = TAG_PART.test(container) && base.length + 1 + container.length <= MAX_TAG;
  return `${base}-${part ? container : shortHash(container, 12)}`;
}

/** Whether `tag` is one of the environment `slug`'s image tags (never another slug's that starts alike). */
export function isTagOf(slug: string, tag: string): boolean {
  if (!tag.startsWith(`${slug}-`)) return false;
  return /^[0-9a-f]{40}(?:-[a-z0-9_.-]+)?$/.test(tag.slice(slug.length + 1));
}

/** The slug an image tag belongs to, or undefined for caches and tags Matinee did not write. */
export function slugOfTag(tag: string): string | undefined {
  return /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-[0-9a-f]{40}(?:-[a-z0-9_.-]+)?$/.exec(tag)?.[1];
}

/** The layer cache of one container of one repository, shared by its pull requests. */
export function cacheTag(repo: string, container: string): string {
  return `${CACHE_TAG_PREFIX}${shortHash(`${repo}|${container}`, 16)}`;
}

/** The object a commit's tarball is put at: one per environment, sha and attempt. */
export function sourceKey(environmentId: string, sha: string, attempt: number): string {
  return `${BUILD_SOURCE_PREFIX}${shortHash(environmentId, 16)}/${sha}-${attempt}.tar.gz`;
}

/** A path of `.matinee.yml` (dockerfile, context): relative, inside the repository. Checked again here. */
function insidePath(what: string, value: string): string {
  const parts = value.split('/');
  if (
    !value ||
    value.startsWith('/') ||
    value.includes('\0') ||
    parts.some((part) => part === '..') ||
    value.startsWith('-')
  )
    throw new MatineeError(
      `build ${what} must be a path inside the repository, not ${JSON.stringify(value)}`,
    );
  return value;
}

/** One image's `docker buildx build` arguments, after `--push --provenance=false --platform`. */
export function buildArgv(image: ImageBuildSpec, ref: string, cache: string): string[] {
  const context = insidePath('context', image.context || '.');
  const dockerfile = insidePath('dockerfile', image.dockerfile || 'Dockerfile');
  const argv = ['--file', dockerfile, '--tag', ref];
  if (image.target) argv.push('--target', image.target);
  for (const [name, value] of Object.entries(image.args)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new MatineeError(`build arg ${JSON.stringify(name)} is not a valid name`);
    argv.push('--build-arg', `${name}=${value}`);
  }
  argv.push(
    '--cache-from',
    `type=registry,ref=${cache}`,
    '--cache-to',
    `type=registry,ref=${cache},mode=max,image-manifest=true,oci-mediatypes=true`,
    '--',
    context,
  );
  return argv;
}
