import type { Rule, RuleCondition, TargetGroup } from '@aws-sdk/client-elastic-load-balancing-v2';
import { type HealthCheckState, type RuleAccess, shortHash } from '@matinee/core';
import { isAwsError } from './errors.ts';
import { cookieCondition } from './rule-access.ts';

/**
 * The pure half of the ELB router: what its rules and target groups look like (conditions, priorities, the
 * health check) and how AWS says one is absent. `ElbRouter` (elb-router.ts) makes the calls.
 */
export const MAX_PRIORITY = 50_000;
export const CREATE_RULE_ATTEMPTS = 5;
/** DescribeRules' largest page: one call covers a listener at its (adjustable) limit of 100 rules. */
export const RULES_PAGE = 400;
/**
 * No TCP client has the broadcast address as its source: a rule that also requires it never matches.
 * See `ElbRouter` for why a rule that never matches is needed.
 */
export const UNMATCHABLE: RuleCondition = {
  Field: 'source-ip',
  SourceIpConfig: { Values: ['255.255.255.255/32'] },
};

export const TARGET_GROUP_ABSENT = ['TargetGroupNotFoundException', 'TargetGroupNotFound'];

/** For a lookup by a recorded ARN: a group that is gone is undefined, any other error stays an error. */
export function absent(error: unknown): undefined {
  if (isAwsError(error, ...TARGET_GROUP_ABSENT)) return undefined;
  throw error;
}
export const RULE_ABSENT = ['RuleNotFoundException', 'RuleNotFound'];
export const PRIORITY_TAKEN = ['PriorityInUseException', 'PriorityInUse'];

/**
 * Fast checks: a preview is judged healthy about 10 s after its app answers. On the port each target
 * receives traffic on, which is the app's container port ECS registers it with: the group's own `Port`
 * (which cannot be modified) decides nothing for targets registered by ECS, so a changed `app.port` needs
 * no change of the group.
 */
export const HEALTH_CHECK = {
  HealthCheckEnabled: true,
  HealthCheckProtocol: 'HTTP',
  HealthCheckPort: 'traffic-port',
  HealthCheckIntervalSeconds: 5,
  HealthCheckTimeoutSeconds: 4,
  HealthyThresholdCount: 2,
  UnhealthyThresholdCount: 2,
  Matcher: { HttpCode: '200-399' },
} as const;

/** The group's health check, and whether all but its path is `HEALTH_CHECK` (the path is the app's). */
export function healthCheckOf(group: TargetGroup): HealthCheckState | undefined {
  if (group.HealthCheckPath === undefined) return undefined;
  const standard =
    group.HealthCheckEnabled !== false &&
    group.HealthCheckProtocol === HEALTH_CHECK.HealthCheckProtocol &&
    (group.HealthCheckPort ?? HEALTH_CHECK.HealthCheckPort) === HEALTH_CHECK.HealthCheckPort &&
    group.HealthCheckIntervalSeconds === HEALTH_CHECK.HealthCheckIntervalSeconds &&
    group.HealthCheckTimeoutSeconds === HEALTH_CHECK.HealthCheckTimeoutSeconds &&
    group.HealthyThresholdCount === HEALTH_CHECK.HealthyThresholdCount &&
    group.UnhealthyThresholdCount === HEALTH_CHECK.UnhealthyThresholdCount &&
    group.Matcher?.HttpCode === HEALTH_CHECK.Matcher.HttpCode;
  return { path: group.HealthCheckPath, standard };
}

export function hostOf(rule: Rule): string | undefined {
  const condition = rule.Conditions?.find((c) => c.Field === 'host-header');
  const values = condition?.HostHeaderConfig?.Values ?? condition?.Values ?? [];
  return values.length === 1 ? values[0]?.toLowerCase() : undefined;
}

export function isWarming(rule: Rule): boolean {
  return Boolean(rule.Conditions?.some((c) => c.Field === 'source-ip'));
}

export function forwardsTo(rule: Rule): string | undefined {
  const forward = rule.Actions?.find((action) => action.Type === 'forward');
  return forward?.TargetGroupArn ?? forward?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
}

/** A live rule: the host, and for a private preview its cookie. A warming rule matches nobody anyway. */
export function conditions(host: string, mode: 'live' | 'warming', access?: RuleAccess): RuleCondition[] {
  const byHost: RuleCondition = { Field: 'host-header', HostHeaderConfig: { Values: [host] } };
  if (mode === 'warming') return [byHost, UNMATCHABLE];
  return access ? [byHost, cookieCondition(access)] : [byHost];
}

/** Where an environment's rule goes first: the same host always tries the same priority, so two reconciles
 * racing to create it collide (and the loser finds the winner's rule) instead of making two rules. */
export function preferredPriority(host: string): number {
  return (Number.parseInt(shortHash(host, 8), 16) % MAX_PRIORITY) + 1;
}

/** The first free priority at or after `start`, wrapping around. */
export function freePriority(start: number, taken: ReadonlySet<number>): number | undefined {
  for (let step = 0; step < MAX_PRIORITY; step++) {
    const candidate = ((start - 1 + step) % MAX_PRIORITY) + 1;
    if (!taken.has(candidate)) return candidate;
  }
  return undefined;
}
