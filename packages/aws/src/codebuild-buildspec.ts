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
 * it NUL-separated, bash reads it with mapfile), so nothing from `.matinee.yml` is ever parsed by a shell
 * (test/integration/codebuild-buildspec-shell.test.ts runs the buildspec in bash to show it).
 * An image whose tag already exists is not built again (tags are immutable): a retry builds what is missing.
 */
export const BUILD_SOURCE_PREFIX = 'sources/';
/**
 * Layer caches (buildx registry cache) live in the stage repository under tags starting with this: one per
 * environment and container (`cacheTag`). `_` is in no slug, so no image tag (`<slug>-<sha>…`) starts with it.
 */
export const CACHE_TAG_PREFIX = 'cache_';
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

/** The variables the project itself sets (stacks/build.ts): where sources are, and the stage's repository URL. */
export const PROJECT_VARIABLES = {
  bucket: 'SOURCE_BUCKET',
  repository: 'REPOSITORY',
} as const;

/**
 * Where a build unpacks the source: under `$TMPDIR` (unset on CodeBuild, so /tmp), which a test of the
 * buildspec points at a directory of its own.
 */
const WORK = `work="\${TMPDIR:-/tmp}/matinee"`;

/**
 * Each phase is one command: a subshell that starts with `set -euo pipefail`, so that a failing step (a pipe's
 * first command included) fails the phase, nothing depends on how CodeBuild carries state from one command to
 * the next, and no option set here leaks into the shell CodeBuild runs its commands in.
 */
const FETCH = `(
set -euo pipefail
echo "${BUILD_LOG_MARK} fetching the source of $${BUILD_VARIABLES.sha}"
${WORK}
mkdir -p "$work/source"
aws s3 cp --only-show-errors "s3://$${PROJECT_VARIABLES.bucket}/$${BUILD_VARIABLES.sourceKey}" "$work/source.tar.gz"
# GitHub's tarball holds one directory, <owner>-<repo>-<short sha>/: its content is the repository.
tar -xzf "$work/source.tar.gz" -C "$work/source" --strip-components=1 --no-same-owner
rm "$work/source.tar.gz"
aws ecr get-login-password | docker login --username AWS --password-stdin "\${${PROJECT_VARIABLES.repository}%%/*}" > /dev/null
docker buildx create --name matinee --driver docker-container --use > /dev/null
)`;

const BUILD = `(
set -euo pipefail
${WORK}
cd "$work/source"
count=$(jq 'length' <<< "$${BUILD_VARIABLES.images}")
for ((i = 0; i < count; i++)); do
  ref=$(jq -r --argjson i "$i" '.[$i].ref' <<< "$${BUILD_VARIABLES.images}")
  if docker buildx imagetools inspect "$ref" > /dev/null 2>&1; then
    echo "${BUILD_LOG_MARK} $ref exists already"
    continue
  fi
  # Through a file, not a pipe: a failing jq fails the build instead of leaving argv short.
  jq -j --argjson i "$i" '.[$i].argv[] | (. + "\\u0000")' <<< "$${BUILD_VARIABLES.images}" > "$work/argv"
  mapfile -d '' -t argv < "$work/argv"
  echo "${BUILD_LOG_MARK} building $ref"
  docker buildx build --push --provenance=false --platform linux/amd64 "\${argv[@]}"
done
)`;

/**
 * The project's buildspec, written as JSON (which YAML parsers read as it is): no command's text can be
 * taken for YAML syntax. Written by hand as YAML, `- echo "matinee: …"` was a mapping, not a command.
 */
export const BUILDSPEC = JSON.stringify(
  {
    version: '0.2',
    env: { shell: 'bash' },
    phases: {
      pre_build: { 'on-failure': 'ABORT', commands: [FETCH] },
      build: { 'on-failure': 'ABORT', commands: [BUILD] },
    },
  },
  null,
  2,
);

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

/** Whether `tag` is one of the environment `slug`'s tags (images and layer caches), never another slug's that starts alike. */
export function isTagOf(slug: string, tag: string): boolean {
  if (slugOfCacheTag(tag) === slug) return true;
  if (!tag.startsWith(`${slug}-`)) return false;
  return /^[0-9a-f]{40}(?:-[a-z0-9_.-]+)?$/.test(tag.slice(slug.length + 1));
}

/** The slug an image or layer-cache tag belongs to, or undefined for tags Matinee did not write. */
export function slugOfTag(tag: string): string | undefined {
  return (
    /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-[0-9a-f]{40}(?:-[a-z0-9_.-]+)?$/.exec(tag)?.[1] ?? slugOfCacheTag(tag)
  );
}

const CACHE_TAG = /^cache_([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)_[0-9a-f]{16}$/;

function slugOfCacheTag(tag: string): string | undefined {
  return CACHE_TAG.exec(tag)?.[1];
}

/**
 * The layer cache of one container of one environment, `cache_<slug>_<hash>`: the only cache its builds read
 * and write. A cache shared by pull requests would let one PR's build plant layers (a `RUN` step's result,
 * keyed by nothing but the Dockerfile's text) that another PR's build, or a later build of another PR that
 * takes the same slug, then reuses as its own. The hash covers the environment id, so a slug claimed again
 * by another repository's pull request never reads what the first one left. Matinee builds no default
 * branch, so there is no trusted cache to read besides: a pull request's first build starts cold.
 */
export function cacheTag(slug: string, environmentId: string, container: string): string {
  return `${CACHE_TAG_PREFIX}${slug}_${shortHash(`${environmentId}|${container}`, 16)}`;
}

/**
 * The layer caches of before, `cache-<16 hex>`, one per repository and container shared by its pull requests
 * (and poisonable by any of them): read by no build any more, removed by the resync.
 */
export function isSharedCacheTag(tag: string): boolean {
  return /^cache-[0-9a-f]{16}$/.test(tag);
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

const STAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * One image's `docker buildx build` arguments, after `--push --provenance=false --platform`. Checked again
 * here, whatever the config schema let through: every option is one `--name=value` element (a value is never
 * taken for an option), the context comes after `--`, and no element holds a NUL (the buildspec splits the
 * list on NUL, so one would smuggle in an option of its own).
 */
export function buildArgv(image: ImageBuildSpec, ref: string, cache: string): string[] {
  const context = insidePath('context', image.context || '.');
  const dockerfile = insidePath('dockerfile', image.dockerfile || 'Dockerfile');
  const argv = [`--file=${dockerfile}`, `--tag=${ref}`];
  if (image.target !== undefined) {
    if (!STAGE_NAME.test(image.target))
      throw new MatineeError(`build target ${JSON.stringify(image.target)} is not a Dockerfile stage name`);
    argv.push(`--target=${image.target}`);
  }
  for (const [name, value] of Object.entries(image.args)) {
    if (!ARG_NAME.test(name)) throw new MatineeError(`build arg ${JSON.stringify(name)} is not a valid name`);
    argv.push(`--build-arg=${name}=${value}`);
  }
  argv.push(
    `--cache-from=type=registry,ref=${cache}`,
    `--cache-to=type=registry,ref=${cache},mode=max,image-manifest=true,oci-mediatypes=true`,
    '--',
    context,
  );
  // The value is not echoed: a build arg's may be anything.
  if (argv.some((arg) => arg.includes('\0')))
    throw new MatineeError('a build argument holds a NUL character');
  return argv;
}
