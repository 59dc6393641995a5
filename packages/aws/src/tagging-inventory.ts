import {
  GetResourcesCommand,
  type ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { type Inventory, type OwnedResource, TAG_ENVIRONMENT, TAG_HOST, TAG_STAGE } from '@matinee/core';
import { environmentIdFromTag, tagRecord } from './aws-tags.ts';
import { aws } from './errors.ts';

export interface TaggingInventoryOptions {
  tagging: ResourceGroupsTaggingAPIClient;
  stage: string;
}

/** The tagging API's names for the kinds of resource Matinee creates. */
export const OWNED_RESOURCE_TYPES = [
  'ecs:service',
  'ecs:task-definition',
  'elasticloadbalancing:targetgroup',
  'elasticloadbalancing:listener-rule',
  // Volumes' access points (efs-volumes.ts); their directories are listed by the janitor instead.
  'elasticfilesystem:access-point',
];

/** What an ARN is, from its resource part. */
export function resourceKind(arn: string): OwnedResource['kind'] | undefined {
  const resource = arn.split(':').slice(5).join(':');
  if (resource.startsWith('service/')) return 'service';
  if (resource.startsWith('task-definition/')) return 'task-definition';
  if (resource.startsWith('targetgroup/')) return 'target-group';
  if (resource.startsWith('listener-rule/')) return 'rule';
  if (resource.startsWith('access-point/')) return 'volume';
  return undefined;
}

/**
 * The `Inventory` on the tagging API: everything of these kinds carrying this stage's tag, one filtered
 * listing (never a list of every service or target group in the account).
 */
export class TaggingInventory implements Inventory {
  private readonly options: TaggingInventoryOptions;

  constructor(options: TaggingInventoryOptions) {
    this.options = options;
  }

  async listOwned(): Promise<OwnedResource[]> {
    const owned: OwnedResource[] = [];
    let token: string | undefined;
    do {
      const page = await aws('GetResources', () =>
        this.options.tagging.send(
          new GetResourcesCommand({
            TagFilters: [{ Key: TAG_STAGE, Values: [this.options.stage] }],
            ResourceTypeFilters: OWNED_RESOURCE_TYPES,
            PaginationToken: token,
          }),
        ),
      );
      for (const mapping of page.ResourceTagMappingList ?? []) {
        const arn = mapping.ResourceARN;
        const kind = arn && resourceKind(arn);
        const tags = tagRecord(mapping.Tags);
        const environment = tags[TAG_ENVIRONMENT];
        const host = tags[TAG_HOST];
        // Without both tags nobody can tell whose it is; the collector leaves it alone.
        if (!arn || !kind || !environment || !host) continue;
        owned.push({ arn, kind, environmentId: environmentIdFromTag(environment), host });
      }
      // The tagging API ends with an empty token rather than none.
      token = page.PaginationToken || undefined;
    } while (token);
    return owned;
  }
}
