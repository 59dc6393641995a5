import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  ListTaskDefinitionsCommand,
  type TaskDefinitionStatus,
} from '@aws-sdk/client-ecs';
import { type EnvironmentRef, TAG_ENVIRONMENT, TAG_STAGE } from '@matinee/core';
import { awsTags, TAG_REVISION, tagRecord } from './aws-tags.ts';
import { aws, fromAws, isAwsError } from './errors.ts';

/** DeleteTaskDefinitions takes at most this many ARNs per call. */
const DELETE_BATCH = 10;

/** `arn:…:task-definition/<family>:<n>` → family; the list filter is by prefix, so results are checked. */
export function familyOf(taskDefinitionArn: string): string | undefined {
  return /:task-definition\/(.+):\d+$/.exec(taskDefinitionArn)?.[1];
}

/**
 * An environment's task definition revisions: reading their Matinee revision tag, listing, retiring.
 *
 * DeregisterTaskDefinition has no resource-level permission in IAM (the Service Authorization Reference lists
 * no resource type for it), so the reconcile function may deregister any revision in the account. The guard
 * is here instead: a revision is deregistered only when it is the environment's. One of its own family
 * (`matinee-<stage>_<slug>`, which only this stage may register into) is; one of the legacy family
 * (`matinee-<stage>-<slug>`, which another stage's environment can share: stage `a-b`'s `x` and stage `a`'s
 * `b-x`) only when its tags name this stage and this environment; anything else is left alone.
 */
export class TaskDefinitions {
  /** Task definition ARNs are immutable, and so are the tags Matinee gave them: remembered per ARN. */
  private readonly tagsByArn = new Map<string, Record<string, string> | undefined>();

  constructor(private readonly ecs: ECSClient) {}

  /** The revision tag of a task definition (undefined when Matinee did not make it or cannot read it). */
  async revisionOf(taskDefinitionArn: string): Promise<string | undefined> {
    if (!taskDefinitionArn) return undefined;
    return (await this.tagsOf(taskDefinitionArn))?.[TAG_REVISION];
  }

  /** Remembers what a revision just registered was tagged with. */
  registered(taskDefinitionArn: string, tags: Record<string, string>): void {
    this.tagsByArn.set(taskDefinitionArn, tags);
  }

  /** The family's latest ACTIVE revision and its Matinee revision tag, or undefined when it has none. */
  async latest(family: string): Promise<{ arn: string; revision?: string } | undefined> {
    try {
      const { taskDefinition, tags } = await this.ecs.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ['TAGS'] }),
      );
      const arn = taskDefinition?.taskDefinitionArn;
      if (!arn || taskDefinition?.status !== 'ACTIVE') return undefined;
      const record = tagRecord(tags);
      this.tagsByArn.set(arn, record);
      return { arn, revision: record[TAG_REVISION] };
    } catch (error) {
      // ECS answers a family without active revisions with a ClientException ("Unable to describe").
      if (isAwsError(error, 'ClientException')) return undefined;
      throw fromAws(error, `DescribeTaskDefinition ${family}`);
    }
  }

  /**
   * How many revisions of the environment are left when it has no service: the active ones, or else the
   * inactive ones (deregistered but not yet deleted, which a teardown cut short leaves), of its family, or
   * else of the legacy family.
   */
  async countLeft(ref: EnvironmentRef): Promise<number> {
    for (const status of ['ACTIVE', 'INACTIVE'] as const) {
      const left = await this.list(ref.names.family, status);
      if (left.length) return left.length;
    }
    const legacy = await this.legacy(ref);
    return legacy.active.length + legacy.inactive.length;
  }

  /** Retires revisions a rollout replaced (they may be of the legacy family); others are left alone. */
  async retire(ref: EnvironmentRef, taskDefinitionArns: Iterable<string>): Promise<void> {
    for (const arn of taskDefinitionArns) if (await this.owns(ref, arn)) await this.deregister(arn);
  }

  /** Deregisters every revision of the environment, in either family, then deletes them. */
  async removeAll(ref: EnvironmentRef): Promise<void> {
    const family = ref.names.family;
    const active = await this.list(family, 'ACTIVE');
    const legacy = await this.legacy(ref);
    for (const arn of [...active, ...legacy.active]) await this.deregister(arn);
    // Deregistered revisions stay (and stay tagged) until deleted. The ones just deregistered are named
    // directly (a listing may not show them as inactive yet); leftovers of an interrupted run go too.
    const listed = await this.list(family, 'INACTIVE');
    const inactive = [...new Set([...active, ...legacy.active, ...legacy.inactive, ...listed])];
    for (let start = 0; start < inactive.length; start += DELETE_BATCH) {
      const batch = inactive.slice(start, start + DELETE_BATCH);
      try {
        await this.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: batch }));
      } catch (error) {
        // Deleting is tidiness, not correctness: a region or endpoint without the call keeps them inactive.
        if (isAwsError(error, 'InvalidParameterException', 'ClientException', 'UnsupportedFeatureException'))
          return;
        throw fromAws(error, `DeleteTaskDefinitions ${family}`);
      }
    }
  }

  /** The environment's revisions of the legacy family, active or not, by their tags. */
  private async legacy(ref: EnvironmentRef): Promise<{ active: string[]; inactive: string[] }> {
    const family = ref.names.legacyFamily;
    const ours = async (status: TaskDefinitionStatus) => {
      const found: string[] = [];
      for (const arn of await this.list(family, status)) if (await this.owns(ref, arn)) found.push(arn);
      return found;
    };
    return { active: await ours('ACTIVE'), inactive: await ours('INACTIVE') };
  }

  /** Whether a revision is the environment's: of its own family, or of the legacy one and tagged so. */
  private async owns(ref: EnvironmentRef, taskDefinitionArn: string): Promise<boolean> {
    const family = familyOf(taskDefinitionArn);
    if (family === ref.names.family) return true;
    if (family !== ref.names.legacyFamily) return false;
    const tags = await this.tagsOf(taskDefinitionArn);
    const mine = awsTags(ref.tags);
    return (
      tags !== undefined &&
      tags[TAG_STAGE] === mine[TAG_STAGE] &&
      tags[TAG_ENVIRONMENT] === mine[TAG_ENVIRONMENT]
    );
  }

  private async tagsOf(taskDefinitionArn: string): Promise<Record<string, string> | undefined> {
    if (this.tagsByArn.has(taskDefinitionArn)) return this.tagsByArn.get(taskDefinitionArn);
    try {
      const { tags } = await this.ecs.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn, include: ['TAGS'] }),
      );
      const record = tagRecord(tags);
      this.tagsByArn.set(taskDefinitionArn, record);
      return record;
    } catch (error) {
      // A task definition Matinee cannot read has no Matinee tags.
      if (isAwsError(error, 'ClientException')) return undefined;
      throw fromAws(error, `DescribeTaskDefinition ${taskDefinitionArn}`);
    }
  }

  /** Revisions of exactly this family in `status`, every page. */
  private async list(family: string, status: TaskDefinitionStatus): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await aws(`ListTaskDefinitions ${family} ${status}`, () =>
        this.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status, nextToken })),
      );
      arns.push(...(page.taskDefinitionArns ?? []).filter((arn) => familyOf(arn) === family));
      nextToken = page.nextToken;
    } while (nextToken);
    return arns;
  }

  /** Deregisters one revision; one already inactive (a concurrent run got there first) is done. */
  private async deregister(taskDefinitionArn: string): Promise<void> {
    try {
      await this.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
    } catch (error) {
      if (isAwsError(error, 'ClientException') && /inactive/i.test(String((error as Error).message))) return;
      throw fromAws(error, `DeregisterTaskDefinition ${taskDefinitionArn}`);
    }
  }
}
