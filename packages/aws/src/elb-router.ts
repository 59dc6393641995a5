import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  type Rule,
  type TargetGroup,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  type EnvironmentRef,
  type HealthCheckState,
  MatineeError,
  type Router,
  type RuleAccess,
  TAG_ENVIRONMENT,
  TAG_STAGE,
  type TargetHealth,
  TransientError,
} from '@matinee/core';
import { elbTags, environmentTagValue, tagRecord } from './aws-tags.ts';
import { HostRules } from './elb-host-rules.ts';
import {
  absent,
  forwardsTo,
  HEALTH_CHECK,
  healthCheckOf,
  hostOf,
  isWarming,
  TARGET_GROUP_ABSENT,
} from './elb-rules.ts';
import { aws, fromAws, isAwsError } from './errors.ts';
import { accessOf } from './rule-access.ts';

export { preferredPriority } from './elb-rules.ts';

export interface ElbRouterOptions {
  elb: ElasticLoadBalancingV2Client;
  vpcId: string;
  /** The shared ALB's HTTPS listener; its default action wakes environments. */
  listenerArn: string;
}

/**
 * The `Router` on the shared ALB: a target group per environment and one listener rule per environment,
 * found by its host-header condition.
 *
 * ALB only health-checks a target group that a listener rule forwards to (targets of an unattached group
 * stay `unused`), and ECS refuses to create a service for a group without a load balancer. So the rule is
 * made together with the target group, first in a "warming" form that also requires an impossible source
 * address: the group is attached and checked while nobody's requests reach it. `ensureRule` drops that
 * condition once targets are healthy; `removeRule` deletes it, detaching the group while the environment
 * sleeps; `deleteTargetGroup` deletes any rule left with the group. `describe` reports only a live rule.
 * The plan calls `ensureTargetGroup` (which re-attaches) before every scale-up, so a group left detached by
 * a failed CreateRule is attached by the next reconcile.
 */
export class ElbRouter implements Router {
  private readonly options: ElbRouterOptions;

  private readonly rules: HostRules;

  constructor(options: ElbRouterOptions) {
    this.options = options;
    this.rules = new HostRules(options.elb, options.listenerArn);
  }

  private get elb(): ElasticLoadBalancingV2Client {
    return this.options.elb;
  }

  async describe(ref: EnvironmentRef): Promise<{
    targetGroupArn?: string;
    ruleArn?: string;
    warming: boolean;
    health: TargetHealth;
    access?: RuleAccess;
    healthCheck?: HealthCheckState;
  }> {
    const known = ref.known.targetGroupArn;
    if (known) {
      // The recorded group answers for itself: its settings and health, or not-found when it is gone.
      const [rules, group, health] = await Promise.all([
        this.rules.list(),
        this.targetGroupByArn(known).catch(absent),
        this.health(known).catch(absent),
      ]);
      if (group && health !== undefined)
        return {
          targetGroupArn: known,
          ...this.ruleState(ref, rules),
          health,
          healthCheck: healthCheckOf(group),
        };
    }
    const [group, rules] = await Promise.all([this.findTargetGroup(ref), this.rules.list()]);
    const health = group?.TargetGroupArn ? await this.health(group.TargetGroupArn) : 'none';
    return {
      targetGroupArn: group?.TargetGroupArn,
      ...this.ruleState(ref, rules),
      health,
      healthCheck: group ? healthCheckOf(group) : undefined,
    };
  }

  async updateTargetGroup(
    ref: EnvironmentRef,
    targetGroupArn: string,
    input: { port: number; healthPath: string },
  ): Promise<void> {
    await aws(`ModifyTargetGroup ${ref.names.targetGroup}`, () =>
      this.elb.send(
        new ModifyTargetGroupCommand({
          TargetGroupArn: targetGroupArn,
          HealthCheckPath: input.healthPath,
          ...HEALTH_CHECK,
        }),
      ),
    );
  }

  /** The live host rule and its cookie condition, and whether a warming one holds the group attached. */
  private ruleState(
    ref: EnvironmentRef,
    rules: Rule[],
  ): { ruleArn?: string; warming: boolean; access?: RuleAccess } {
    const host = this.rules.ofHost(ref, rules);
    const live = host.find((rule) => !isWarming(rule));
    return { ruleArn: live?.RuleArn, warming: host.some(isWarming), access: live && accessOf(live) };
  }

  async ensureTargetGroup(
    ref: EnvironmentRef,
    input: { port: number; healthPath: string },
  ): Promise<{ targetGroupArn: string }> {
    const name = ref.names.targetGroup;
    const known = ref.known.targetGroupArn;
    if (known) {
      // Waking: the group was made before and only needs attaching again, one write instead of three.
      try {
        await this.rules.ensure(ref, known, { mode: 'warming' });
        return { targetGroupArn: known };
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause;
        if (!isAwsError(error, ...TARGET_GROUP_ABSENT) && !isAwsError(cause, ...TARGET_GROUP_ABSENT))
          throw error;
      }
    }
    let targetGroupArn: string;
    let created = false;
    try {
      // Idempotent on AWS: the same name with the same settings returns the existing group.
      const { TargetGroups } = await this.elb.send(
        new CreateTargetGroupCommand({
          Name: name,
          TargetType: 'ip',
          Protocol: 'HTTP',
          Port: input.port,
          VpcId: this.options.vpcId,
          HealthCheckPath: input.healthPath,
          ...HEALTH_CHECK,
          Tags: elbTags(ref.tags),
        }),
      );
      const arn = TargetGroups?.[0]?.TargetGroupArn;
      if (!arn) throw new MatineeError(`CreateTargetGroup ${name} returned no target group`);
      targetGroupArn = arn;
      created = true;
    } catch (error) {
      if (!isAwsError(error, 'DuplicateTargetGroupNameException', 'DuplicateTargetGroupName'))
        throw fromAws(error, `CreateTargetGroup ${name}`);
      // Same name, other settings (the health path changed): adopt it if it is this environment's.
      targetGroupArn = await this.adoptTargetGroup(ref, input);
    }
    // Attached before anything else can fail: a reconcile that observes the group skips this step, so a
    // group left without its rule would stay unattached (see the class comment).
    try {
      await this.rules.ensure(ref, targetGroupArn, { mode: 'warming' });
    } catch (error) {
      // Refused for good (capacity, validation): the group made here goes again in this same step, so no
      // tagged group is left that the environment does not record. A transient failure keeps it for the
      // retry, which finds it by name.
      if (created && !(error instanceof TransientError)) await this.deleteCreatedGroup(targetGroupArn);
      throw error;
    }
    await aws(`ModifyTargetGroupAttributes ${name}`, () =>
      this.elb.send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: targetGroupArn,
          // Previews need no graceful connection draining; a replaced task should leave at once.
          Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }],
        }),
      ),
    );
    return { targetGroupArn };
  }

  async ensureRule(
    ref: EnvironmentRef,
    targetGroupArn: string,
    access?: RuleAccess,
  ): Promise<{ ruleArn: string }> {
    return { ruleArn: await this.rules.ensure(ref, targetGroupArn, { mode: 'live', access }) };
  }

  async removeRule(ref: EnvironmentRef): Promise<void> {
    // Live or warming, the rule goes: a sleeping environment holds no rule and its group is detached, so
    // it counts against neither the ALB's rules nor its 100 target groups. The plan attaches it again
    // (ensureTargetGroup) before the next scale-up.
    for (const rule of this.rules.ofHost(ref, await this.rules.list())) await this.rules.delete(rule.RuleArn);
  }

  async deleteTargetGroup(ref: EnvironmentRef): Promise<void> {
    const group = await this.findTargetGroup(ref);
    const arn = group?.TargetGroupArn;
    if (!arn) return;
    const rules = await this.rules.list();
    const attached = rules.filter(
      (rule) => !rule.IsDefault && (forwardsTo(rule) === arn || hostOf(rule) === ref.host.toLowerCase()),
    );
    for (const rule of attached) await this.rules.delete(rule.RuleArn);
    try {
      await this.elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }));
    } catch (error) {
      if (isAwsError(error, ...TARGET_GROUP_ABSENT)) return;
      if (isAwsError(error, 'ResourceInUseException', 'ResourceInUse')) {
        throw new TransientError(`target group ${ref.names.targetGroup} is still in use; try again`, {
          cause: error,
        });
      }
      throw fromAws(error, `DeleteTargetGroup ${ref.names.targetGroup}`);
    }
  }

  /** Deletes a group this step made and could not attach; nothing forwards to it yet. */
  private async deleteCreatedGroup(targetGroupArn: string): Promise<void> {
    try {
      await this.elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: targetGroupArn }));
    } catch (error) {
      if (!isAwsError(error, ...TARGET_GROUP_ABSENT)) throw fromAws(error, 'DeleteTargetGroup');
    }
  }

  /** The group of a recorded ARN; TargetGroupNotFound stays recognisable to the caller. */
  private async targetGroupByArn(arn: string): Promise<TargetGroup | undefined> {
    try {
      const { TargetGroups } = await this.elb.send(
        new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }),
      );
      return TargetGroups?.[0];
    } catch (error) {
      if (isAwsError(error, ...TARGET_GROUP_ABSENT)) throw error;
      throw fromAws(error, `DescribeTargetGroups ${arn}`);
    }
  }

  private async findTargetGroup(ref: EnvironmentRef): Promise<TargetGroup | undefined> {
    try {
      const { TargetGroups } = await this.elb.send(
        new DescribeTargetGroupsCommand({ Names: [ref.names.targetGroup] }),
      );
      return TargetGroups?.[0];
    } catch (error) {
      if (isAwsError(error, ...TARGET_GROUP_ABSENT)) return undefined;
      throw fromAws(error, `DescribeTargetGroups ${ref.names.targetGroup}`);
    }
  }

  /** The existing group of this name, if its tags say it is this environment's; its health check made current. */
  private async adoptTargetGroup(
    ref: EnvironmentRef,
    input: { port: number; healthPath: string },
  ): Promise<string> {
    const name = ref.names.targetGroup;
    const arn = (await this.findTargetGroup(ref))?.TargetGroupArn;
    // Deleted between the two calls: the next reconcile creates it.
    if (!arn) throw new TransientError(`target group ${name} vanished while being created; try again`);
    const { TagDescriptions } = await aws(`DescribeTags ${name}`, () =>
      this.elb.send(new DescribeTagsCommand({ ResourceArns: [arn] })),
    );
    const tags = tagRecord(TagDescriptions?.[0]?.Tags);
    const ours =
      tags[TAG_STAGE] === ref.tags[TAG_STAGE] && tags[TAG_ENVIRONMENT] === environmentTagValue(ref.id);
    if (!ours) {
      throw new MatineeError(
        `target group name ${name} is taken by a target group that is not environment ${ref.id}'s`,
      );
    }
    await this.updateTargetGroup(ref, arn, input);
    return arn;
  }

  /** One word for the group's targets: any healthy one serves; `unused` means checks have not begun. */
  private async health(targetGroupArn: string): Promise<TargetHealth> {
    // Not through aws(): a missing group must stay recognisable (TargetGroupNotFound) to the caller.
    let TargetHealthDescriptions: TargetHealthDescription[] | undefined;
    try {
      ({ TargetHealthDescriptions } = await this.elb.send(
        new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
      ));
    } catch (error) {
      if (isAwsError(error, ...TARGET_GROUP_ABSENT)) throw error;
      throw fromAws(error, 'DescribeTargetHealth');
    }
    const states = (TargetHealthDescriptions ?? []).map((target) => target.TargetHealth?.State);
    if (states.length === 0) return 'none';
    if (states.includes('healthy')) return 'healthy';
    if (states.some((state) => state === 'initial' || state === 'unused')) return 'initial';
    return 'unhealthy';
  }
}
