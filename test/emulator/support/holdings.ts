import {
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  type Service,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import {
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  type Rule,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetResourcesCommand } from '@aws-sdk/client-resource-groups-tagging-api';
import { OWNED_RESOURCE_TYPES } from '@matinee/aws';
import { TAG_STAGE } from '@matinee/core';
import type { EcsStandIn } from './ecs-stand-in.ts';
import type { MotoStage } from './moto-stage.ts';

/** A listener rule as the assertions read it. */
export interface HeldRule {
  priority: string;
  hosts: string[];
  /** Other condition fields (a warming rule also has `source-ip`). */
  fields: string[];
  forwardsTo?: string;
  isDefault: boolean;
}

/** What moto holds for a stage, read with the test's own uninstrumented clients. */
export class Holdings {
  constructor(
    private readonly moto: MotoStage,
    private readonly ecs: EcsStandIn,
  ) {}

  async rules(): Promise<HeldRule[]> {
    const { Rules } = await this.moto.admin.elb.send(
      new DescribeRulesCommand({ ListenerArn: this.moto.settings.loadBalancer.listenerArn, PageSize: 400 }),
    );
    return (Rules ?? []).map((rule: Rule) => ({
      priority: rule.Priority ?? '',
      hosts: rule.Conditions?.find((c) => c.Field === 'host-header')?.HostHeaderConfig?.Values ?? [],
      fields: (rule.Conditions ?? []).map((c) => c.Field ?? '').sort(),
      forwardsTo: rule.Actions?.find((action) => action.Type === 'forward')?.TargetGroupArn,
      isDefault: Boolean(rule.IsDefault),
    }));
  }

  /** The listener's rules other than its default (which forwards to the wake function). */
  async hostRules(): Promise<HeldRule[]> {
    return (await this.rules()).filter((rule) => !rule.isDefault);
  }

  /** Target groups in the stage's VPC, but the wake function's, with their tags. */
  async targetGroups(): Promise<(TargetGroup & { tags: Record<string, string> })[]> {
    const { TargetGroups } = await this.moto.admin.elb.send(new DescribeTargetGroupsCommand({}));
    const groups = (TargetGroups ?? []).filter(
      (group) =>
        group.VpcId === this.moto.settings.network.vpcId &&
        group.TargetGroupArn !== this.moto.wakeTargetGroupArn,
    );
    if (!groups.length) return [];
    const { TagDescriptions } = await this.moto.admin.elb.send(
      new DescribeTagsCommand({ ResourceArns: groups.map((group) => group.TargetGroupArn ?? '') }),
    );
    return groups.map((group) => {
      const tags = TagDescriptions?.find((d) => d.ResourceArn === group.TargetGroupArn)?.Tags ?? [];
      return { ...group, tags: Object.fromEntries(tags.map((tag) => [tag.Key ?? '', tag.Value ?? ''])) };
    });
  }

  async services(): Promise<Service[]> {
    return this.ecs.services();
  }

  async activeServices(): Promise<Service[]> {
    return (await this.services()).filter((service) => service.status === 'ACTIVE');
  }

  /** Every revision of a family, ACTIVE or INACTIVE, with its tags. */
  async taskDefinitions(family: string): Promise<(TaskDefinition & { tags: Record<string, string> })[]> {
    const held: (TaskDefinition & { tags: Record<string, string> })[] = [];
    for (const status of ['ACTIVE', 'INACTIVE'] as const) {
      const { taskDefinitionArns } = await this.moto.admin.ecs.send(
        new ListTaskDefinitionsCommand({ familyPrefix: family, status }),
      );
      for (const arn of taskDefinitionArns ?? []) {
        const { taskDefinition, tags } = await this.moto.admin.ecs.send(
          new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] }),
        );
        if (taskDefinition?.family !== family) continue;
        held.push({
          ...taskDefinition,
          tags: Object.fromEntries((tags ?? []).map((tag) => [tag.key ?? '', tag.value ?? ''])),
        });
      }
    }
    return held.sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
  }

  /** ARNs carrying this stage's tag, by the tagging API (moto's; see the README for what it misses). */
  async tagged(): Promise<string[]> {
    const { ResourceTagMappingList } = await this.moto.admin.tagging.send(
      new GetResourcesCommand({
        TagFilters: [{ Key: TAG_STAGE, Values: [this.moto.stage] }],
        // Without a type filter moto 5.2.1 answers with a server error page.
        ResourceTypeFilters: OWNED_RESOURCE_TYPES,
      }),
    );
    return (ResourceTagMappingList ?? []).map((mapping) => mapping.ResourceARN ?? '');
  }
}
