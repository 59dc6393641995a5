import { BatchDeleteImageCommand, type ECRClient, ListImagesCommand } from '@aws-sdk/client-ecr';
import type { EnvironmentRef } from '@matinee/core';
import { isTagOf, slugOf, slugOfTag } from './codebuild-buildspec.ts';
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
 * `<slug>-<sha>[-<container>]` (codebuild-buildspec.ts), removed when it is, and by the resync when no
 * environment has that slug any more. Layer caches (`cache-…`) are shared by a repository's pull requests and
 * stay; untagged images expire by the repository's lifecycle policy.
 */
export class EcrImages {
  private readonly options: EcrImagesOptions;

  constructor(options: EcrImagesOptions) {
    this.options = options;
  }

  /** Deletes every image of the environment. None, or no repository, is success. */
  async remove(ref: Pick<EnvironmentRef, 'names'>): Promise<string[]> {
    const slug = slugOf(this.options.stage, ref);
    return this.delete((await this.tags()).filter((tag) => isTagOf(slug, tag)));
  }

  /** The slugs that have images: the resync removes those of environments that are gone. */
  async slugs(): Promise<Set<string>> {
    const slugs = new Set<string>();
    for (const tag of await this.tags()) {
      const slug = slugOfTag(tag);
      if (slug) slugs.add(slug);
    }
    return slugs;
  }

  /** Deletes the images of these slugs (environments that are gone). */
  async removeSlugs(slugs: Set<string>): Promise<string[]> {
    if (!slugs.size) return [];
    return this.delete((await this.tags()).filter((tag) => slugs.has(slugOfTag(tag) ?? '')));
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
