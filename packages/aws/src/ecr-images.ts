import { BatchDeleteImageCommand, type ECRClient, ListImagesCommand } from '@aws-sdk/client-ecr';
import type { EnvironmentRef } from '@matinee/core';
import { isSharedCacheTag, isTagOf, slugOf, slugOfTag } from './codebuild-buildspec.ts';
import { aws, fromAws, isAwsError } from './errors.ts';

export interface EcrImagesOptions {
  ecr: ECRClient;
  stage: string;
  /** The stage's repository, `matinee-<stage>`. */
  repository: string;
}

/** BatchDeleteImage takes at most this many image ids. */
const DELETE_BATCH = 100;

/**
 * The built images in the stage's ECR repository, by environment: an environment's are the tags
 * `<slug>-<sha>[-<container>]` and its layer caches `cache_<slug>_<hash>` (codebuild-buildspec.ts), removed
 * when it is, and by the resync when no environment has that slug any more. Untagged images (a cache's
 * replaced manifests, failed pushes) expire by the repository's lifecycle policy; tagged ones never do.
 */
export class EcrImages {
  private readonly options: EcrImagesOptions;

  constructor(options: EcrImagesOptions) {
    this.options = options;
  }

  /** Deletes every image and layer cache of the environment. None, or no repository, is success. */
  async remove(ref: Pick<EnvironmentRef, 'names'>): Promise<string[]> {
    const slug = slugOf(this.options.stage, ref);
    return this.delete((await this.tags()).filter((tag) => isTagOf(slug, tag)));
  }

  /**
   * Deletes the images and layer caches of every slug not in `keep` (environments that are gone), and the
   * shared caches of before (`isSharedCacheTag`); returns the tags deleted. One listing of the repository.
   */
  async prune(keep: ReadonlySet<string>): Promise<string[]> {
    return this.delete(
      (await this.tags()).filter((tag) => {
        const slug = slugOfTag(tag);
        return slug ? !keep.has(slug) : isSharedCacheTag(tag);
      }),
    );
  }

  private async tags(): Promise<string[]> {
    const { ecr, repository } = this.options;
    const tags: string[] = [];
    let nextToken: string | undefined;
    try {
      do {
        const page = await ecr.send(
          new ListImagesCommand({
            repositoryName: repository,
            filter: { tagStatus: 'TAGGED' },
            nextToken,
            maxResults: 1000,
          }),
        );
        for (const image of page.imageIds ?? []) if (image.imageTag) tags.push(image.imageTag);
        nextToken = page.nextToken;
      } while (nextToken);
    } catch (error) {
      if (isAwsError(error, 'RepositoryNotFoundException')) return [];
      throw fromAws(error, `ListImages ${repository}`);
    }
    return tags;
  }

  private async delete(tags: string[]): Promise<string[]> {
    const { ecr, repository } = this.options;
    for (let i = 0; i < tags.length; i += DELETE_BATCH) {
      const imageIds = tags.slice(i, i + DELETE_BATCH).map((imageTag) => ({ imageTag }));
      await aws(`BatchDeleteImage ${repository}`, () =>
        ecr.send(new BatchDeleteImageCommand({ repositoryName: repository, imageIds })),
      );
    }
    return tags;
  }
}
