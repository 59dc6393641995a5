import {
  DescribeRulesCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { MotoStage } from './moto-stage.ts';

/**
 * The ALB's hard limit of 100 unique target groups, which moto does not enforce: a `CreateRule` or
 * `ModifyRule` that would make the listener forward to one more than `limit` groups is refused as AWS refuses
 * it, `TooManyUniqueTargetGroupsPerLoadBalancer`. The count is moto's own rules.
 */
export function enforceTargetGroupLimit(
  elb: ElasticLoadBalancingV2Client,
  moto: MotoStage,
  limit = 100,
): void {
  elb.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'CreateRuleCommand' || context.commandName === 'ModifyRuleCommand') {
        const input = (args as { input: { Actions?: { TargetGroupArn?: string }[] } }).input;
        const adding = (input.Actions ?? []).map((action) => action.TargetGroupArn).filter(Boolean);
        const { Rules } = await moto.admin.elb.send(
          new DescribeRulesCommand({ ListenerArn: moto.settings.loadBalancer.listenerArn, PageSize: 400 }),
        );
        const groups = new Set(
          (Rules ?? []).flatMap((rule) => (rule.Actions ?? []).map((action) => action.TargetGroupArn)),
        );
        const after = new Set([...groups, ...adding]);
        if (after.size > limit && after.size > groups.size) {
          throw Object.assign(
            new Error(
              `You have reached the maximum number of unique target groups per load balancer '${limit}'`,
            ),
            {
              name: 'TooManyUniqueTargetGroupsPerLoadBalancer',
              $fault: 'client',
              $metadata: { httpStatusCode: 400 },
            },
          );
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'targetGroupLimit', priority: 'low' },
  );
}
