import {
  type Action,
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeRulesCommand,
  type ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  type Rule,
  type RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { type EnvironmentRef, MatineeError, type RuleAccess, TransientError } from '@matinee/core';
import { elbTags } from './aws-tags.ts';
import {
  CREATE_RULE_ATTEMPTS,
  conditions,
  forwardsTo,
  freePriority,
  hostOf,
  isWarming,
  PRIORITY_TAKEN,
  preferredPriority,
  RULE_ABSENT,
  RULES_PAGE,
} from './elb-rules.ts';
import { aws, fromAws, isAwsError } from './errors.ts';
import { sameConditions } from './rule-access.ts';

/**
 * The host rules on Matinee's own listener, one per environment (found by its host-header condition):
 * listed, made, brought to the wanted conditions, deleted. `ElbRouter` (elb-router.ts) decides when.
 */
export class HostRules {
  constructor(
    private readonly elb: ElasticLoadBalancingV2Client,
    private readonly listenerArn: string,
  ) {}

  /** Every rule of Matinee's own listener (the one listing Matinee makes that is not filtered by tag). */
  async list(): Promise<Rule[]> {
    const rules: Rule[] = [];
    let marker: string | undefined;
    do {
      const page = await aws('DescribeRules', () =>
        this.elb.send(
          new DescribeRulesCommand({
            ListenerArn: this.listenerArn,
            PageSize: RULES_PAGE,
            Marker: marker,
          }),
        ),
      );
      rules.push(...(page.Rules ?? []));
      marker = page.NextMarker;
    } while (marker);
    return rules;
  }

  /** The environment's rules, lowest priority first (more than one only after a lost race). */
  ofHost(ref: EnvironmentRef, rules: Rule[]): Rule[] {
    const host = ref.host.toLowerCase();
    return rules
      .filter((rule) => !rule.IsDefault && hostOf(rule) === host)
      .sort((a, b) => Number(a.Priority) - Number(b.Priority));
  }

  /**
   * The rule for `ref.host` in `want.mode`, forwarding to `targetGroupArn`. A warming request never demotes a
   * live rule, nor touches its conditions (it does not know the cookie). A live request brings the rule's
   * conditions to exactly the host and `want.access`: a rotated secret or a changed mode is one ModifyRule,
   * and a rule already right is not written at all.
   */
  async ensure(
    ref: EnvironmentRef,
    targetGroupArn: string,
    want: { mode: 'live' | 'warming'; access?: RuleAccess },
  ): Promise<string> {
    const failed = new Set<number>();
    for (let attempt = 1; attempt <= CREATE_RULE_ATTEMPTS; attempt++) {
      const rules = await this.list();
      const existing = this.ofHost(ref, rules)[0];
      if (existing?.RuleArn) {
        const retarget = forwardsTo(existing) !== targetGroupArn;
        const forward: Action[] = [{ Type: 'forward', TargetGroupArn: targetGroupArn }];
        if (want.mode === 'live') {
          const wanted = conditions(ref.host, 'live', want.access);
          if (retarget || !sameConditions(existing.Conditions ?? [], wanted))
            await this.modify(existing.RuleArn, { Conditions: wanted, Actions: forward });
        } else if (retarget) {
          await this.modify(existing.RuleArn, {
            // A live rule keeps its conditions, cookie included.
            ...(isWarming(existing) ? { Conditions: conditions(ref.host, 'warming') } : {}),
            Actions: forward,
          });
        }
        return existing.RuleArn;
      }
      const taken = new Set([
        ...failed,
        ...rules.map((rule) => Number(rule.Priority)).filter(Number.isFinite),
      ]);
      const priority = freePriority(preferredPriority(ref.host), taken);
      if (priority === undefined) throw new MatineeError(`listener ${this.listenerArn} has no free priority`);
      try {
        const { Rules } = await this.elb.send(
          new CreateRuleCommand({
            ListenerArn: this.listenerArn,
            Priority: priority,
            Conditions: conditions(ref.host, want.mode, want.access),
            Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
            Tags: elbTags(ref.tags),
          }),
        );
        const ruleArn = Rules?.[0]?.RuleArn;
        if (!ruleArn) throw new MatineeError(`CreateRule for ${ref.host} returned no rule`);
        return ruleArn;
      } catch (error) {
        if (!isAwsError(error, ...PRIORITY_TAKEN)) throw fromAws(error, `CreateRule ${ref.host}`);
        // Someone took it since the listing, perhaps a concurrent reconcile of this very host: look again.
        failed.add(priority);
      }
    }
    throw new TransientError(`no free rule priority for ${ref.host} after ${CREATE_RULE_ATTEMPTS} attempts`);
  }

  private async modify(
    ruleArn: string,
    change: { Conditions?: RuleCondition[]; Actions?: Action[] },
  ): Promise<void> {
    await aws(`ModifyRule ${ruleArn}`, () =>
      this.elb.send(new ModifyRuleCommand({ RuleArn: ruleArn, ...change })),
    );
  }

  async delete(ruleArn: string | undefined): Promise<void> {
    if (!ruleArn) return;
    try {
      await this.elb.send(new DeleteRuleCommand({ RuleArn: ruleArn }));
    } catch (error) {
      if (!isAwsError(error, ...RULE_ABSENT)) throw fromAws(error, `DeleteRule ${ruleArn}`);
    }
  }
}
