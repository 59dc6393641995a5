import {
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  DuplicateTargetGroupNameException,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  PriorityInUseException,
  ResourceInUseException,
  type Rule,
  RuleNotFoundException,
  TargetGroupNotFoundException,
  type TargetHealthStateEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ElbRouter, preferredPriority } from '@matinee/aws';
import {
  type EnvironmentRef,
  environmentId,
  environmentRef,
  MatineeError,
  type TargetHealth,
  TransientError,
} from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';

const HOST = 'fix-login-pr42.preview.example.com';
const LISTENER =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/matinee-test/50dc6c495c0c9188/f2f7dc8efc522ab2';
const TG =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/mt-fix-login-pr42-x/0123456789abcdef';
const OTHER_TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/mt-old/fedcba9876543210';
const RULE =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/matinee-test/50dc/f2f7/0001';

const REF: EnvironmentRef = environmentRef(
  { stage: 'test', domain: 'preview.example.com' },
  { id: environmentId('acme/web', 42), slug: 'fix-login-pr42', host: HOST },
);
const TAGS = [
  { Key: 'matinee:stage', Value: 'test' },
  { Key: 'matinee:environment', Value: 'acme/web:42' },
  { Key: 'matinee:host', Value: HOST },
];
const BY_HOST = { Field: 'host-header', HostHeaderConfig: { Values: [HOST] } };
const UNMATCHABLE = { Field: 'source-ip', SourceIpConfig: { Values: ['255.255.255.255/32'] } };
const FORWARD = [{ Type: 'forward' as const, TargetGroupArn: TG }];
const DEFAULT_RULE: Rule = {
  RuleArn: `${RULE}-default`,
  Priority: 'default',
  IsDefault: true,
  Conditions: [],
};

const liveRule = (overrides: Partial<Rule> = {}): Rule => ({
  RuleArn: RULE,
  Priority: '7',
  Conditions: [BY_HOST],
  Actions: FORWARD,
  ...overrides,
});
const warmingRule = (overrides: Partial<Rule> = {}): Rule =>
  liveRule({ Conditions: [BY_HOST, UNMATCHABLE], ...overrides });
const otherRule = (priority: number): Rule => ({
  RuleArn: `${RULE}-${priority}`,
  Priority: String(priority),
  Conditions: [
    { Field: 'host-header', HostHeaderConfig: { Values: [`other-${priority}.preview.example.com`] } },
  ],
  Actions: [{ Type: 'forward', TargetGroupArn: OTHER_TG }],
});

function setup() {
  const elb = new ElasticLoadBalancingV2Client({ region: 'eu-west-1' });
  const mock = mockClient(elb);
  const router = new ElbRouter({ elb, vpcId: 'vpc-1', listenerArn: LISTENER });
  return { mock, router };
}

const notFound = () =>
  new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: {} });
const priorityInUse = () => new PriorityInUseException({ message: 'Priority is in use', $metadata: {} });

describe('ElbRouter.ensureTargetGroup', () => {
  it('re-attaches a group it recorded with one CreateRule, creating no group', async () => {
    const { mock, router } = setup();
    mock.on(DescribeRulesCommand).resolves({ Rules: [DEFAULT_RULE] });
    mock.on(CreateRuleCommand).resolves({ Rules: [{ RuleArn: RULE }] });
    const recorded = { ...REF, known: { targetGroupArn: TG } };

    expect(await router.ensureTargetGroup(recorded, { port: 3000, healthPath: '/health' })).toEqual({
      targetGroupArn: TG,
    });
    expect(mock.commandCalls(CreateTargetGroupCommand)).toHaveLength(0);
    expect(mock.commandCalls(CreateRuleCommand)[0]?.args[0].input.Actions).toEqual([
      { Type: 'forward', TargetGroupArn: TG },
    ]);
  });

  it('creates an ip target group with fast health checks, a short deregistration delay, and a warming rule', async () => {
    const { mock, router } = setup();
    mock.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    mock.on(ModifyTargetGroupAttributesCommand).resolves({});
    mock.on(DescribeRulesCommand).resolves({ Rules: [DEFAULT_RULE] });
    mock.on(CreateRuleCommand).resolves({ Rules: [{ RuleArn: RULE }] });

    expect(await router.ensureTargetGroup(REF, { port: 3000, healthPath: '/health' })).toEqual({
      targetGroupArn: TG,
    });
    expect(mock.commandCalls(CreateTargetGroupCommand)[0]?.args[0].input).toEqual({
      Name: REF.names.targetGroup,
      TargetType: 'ip',
      Protocol: 'HTTP',
      Port: 3000,
      VpcId: 'vpc-1',
      HealthCheckEnabled: true,
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: 'traffic-port',
      HealthCheckPath: '/health',
      HealthCheckIntervalSeconds: 5,
      HealthCheckTimeoutSeconds: 4,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
      Matcher: { HttpCode: '200-399' },
      Tags: TAGS,
    });
    expect(mock.commandCalls(ModifyTargetGroupAttributesCommand)[0]?.args[0].input).toEqual({
      TargetGroupArn: TG,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }],
    });
    // Attached to the listener (so ECS accepts it and the ALB checks it) by a rule no request can match.
    expect(mock.commandCalls(CreateRuleCommand)[0]?.args[0].input).toEqual({
      ListenerArn: LISTENER,
      Priority: preferredPriority(HOST),
      Conditions: [BY_HOST, UNMATCHABLE],
      Actions: FORWARD,
      Tags: TAGS,
    });
  });

  it('creates no second rule when the group and its rule exist already', async () => {
    const { mock, router } = setup();
    mock.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    mock.on(ModifyTargetGroupAttributesCommand).resolves({});
    mock.on(DescribeRulesCommand).resolves({ Rules: [warmingRule(), DEFAULT_RULE] });

    await router.ensureTargetGroup(REF, { port: 3000, healthPath: '/health' });

    expect(mock.commandCalls(CreateRuleCommand)).toHaveLength(0);
    expect(mock.commandCalls(ModifyRuleCommand)).toHaveLength(0);
  });

  it('never takes a live rule down to warming', async () => {
    const { mock, router } = setup();
    mock.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    mock.on(ModifyTargetGroupAttributesCommand).resolves({});
    mock.on(DescribeRulesCommand).resolves({ Rules: [liveRule()] });

    await router.ensureTargetGroup(REF, { port: 3000, healthPath: '/health' });

    expect(mock.commandCalls(ModifyRuleCommand)).toHaveLength(0);
  });

  it('adopts a group of the same name with other settings when its tags say it is this environment', async () => {
    const { mock, router } = setup();
    mock
      .on(CreateTargetGroupCommand)
      .rejects(new DuplicateTargetGroupNameException({ message: 'duplicate', $metadata: {} }));
    mock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    mock.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ ResourceArn: TG, Tags: TAGS }] });
    mock.on(ModifyTargetGroupCommand).resolves({});
    mock.on(ModifyTargetGroupAttributesCommand).resolves({});
    mock.on(DescribeRulesCommand).resolves({ Rules: [warmingRule()] });

    expect(await router.ensureTargetGroup(REF, { port: 3000, healthPath: '/ready' })).toEqual({
      targetGroupArn: TG,
    });
    expect(mock.commandCalls(DescribeTargetGroupsCommand)[0]?.args[0].input).toEqual({
      Names: [REF.names.targetGroup],
    });
    expect(mock.commandCalls(DescribeTagsCommand)[0]?.args[0].input).toEqual({ ResourceArns: [TG] });
    expect(mock.commandCalls(ModifyTargetGroupCommand)[0]?.args[0].input).toMatchObject({
      TargetGroupArn: TG,
      HealthCheckPath: '/ready',
    });
  });

  it("refuses a group of the same name that is someone else's", async () => {
    const { mock, router } = setup();
    mock
      .on(CreateTargetGroupCommand)
      .rejects(new DuplicateTargetGroupNameException({ message: 'duplicate', $metadata: {} }));
    mock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    mock
      .on(DescribeTagsCommand)
      .resolves({ TagDescriptions: [{ ResourceArn: TG, Tags: [{ Key: 'team', Value: 'x' }] }] });

    await expect(router.ensureTargetGroup(REF, { port: 3000, healthPath: '/' })).rejects.toThrow(
      MatineeError,
    );
    expect(mock.commandCalls(ModifyTargetGroupAttributesCommand)).toHaveLength(0);
    expect(mock.commandCalls(CreateRuleCommand)).toHaveLength(0);
  });
});

describe('ElbRouter.ensureRule', () => {
  it('opens the warming rule to the host once targets are healthy', async () => {
    const { mock, router } = setup();
    mock.on(DescribeRulesCommand).resolves({ Rules: [otherRule(3), warmingRule(), DEFAULT_RULE] });
    mock.on(ModifyRuleCommand).resolves({});

    expect(await router.ensureRule(REF, TG)).toEqual({ ruleArn: RULE });
    expect(mock.commandCalls(DescribeRulesCommand)[0]?.args[0].input).toEqual({
      ListenerArn: LISTENER,
      PageSize: 400,
      Marker: undefined,
    });
    expect(mock.commandCalls(ModifyRuleCommand)[0]?.args[0].input).toEqual({
      RuleArn: RULE,
      Conditions: [BY_HOST],
      Actions: FORWARD,
    });
    expect(mock.commandCalls(CreateRuleCommand)).toHaveLength(0);
  });

  it('changes nothing when the live rule forwards to the group already', async () => {
    const { mock, router } = setup();
    mock
      .on(DescribeRulesCommand)
      .resolves({ Rules: [liveRule({ Conditions: [{ Field: 'host-header', Values: [HOST] }] })] });

    expect(await router.ensureRule(REF, TG)).toEqual({ ruleArn: RULE });
    expect(mock.calls()).toHaveLength(1);
  });

  it('points a rule that forwards elsewhere at the group', async () => {
    const { mock, router } = setup();
    mock
      .on(DescribeRulesCommand)
      .resolves({ Rules: [liveRule({ Actions: [{ Type: 'forward', TargetGroupArn: OTHER_TG }] })] });
    mock.on(ModifyRuleCommand).resolves({});

    await router.ensureRule(REF, TG);

    expect(mock.commandCalls(ModifyRuleCommand)[0]?.args[0].input).toEqual({
      RuleArn: RULE,
      Conditions: [BY_HOST],
      Actions: FORWARD,
    });
  });

  it('creates the rule at the first free priority from the one the host hashes to, reading every page', async () => {
    const { mock, router } = setup();
    const preferred = preferredPriority(HOST);
    mock
      .on(DescribeRulesCommand)
      .resolvesOnce({ Rules: [otherRule(preferred)], NextMarker: 'm2' })
      .resolvesOnce({ Rules: [otherRule((preferred % 50_000) + 1), DEFAULT_RULE] });
    mock.on(CreateRuleCommand).resolves({ Rules: [{ RuleArn: RULE }] });

    expect(await router.ensureRule(REF, TG)).toEqual({ ruleArn: RULE });
    expect(mock.commandCalls(DescribeRulesCommand)[1]?.args[0].input.Marker).toBe('m2');
    expect(mock.commandCalls(CreateRuleCommand)[0]?.args[0].input).toEqual({
      ListenerArn: LISTENER,
      Priority: ((preferred + 1) % 50_000) + 1,
      Conditions: [BY_HOST],
      Actions: FORWARD,
      Tags: TAGS,
    });
  });

  it('returns the rule a concurrent reconcile created when its priority was taken', async () => {
    const { mock, router } = setup();
    mock
      .on(DescribeRulesCommand)
      .resolvesOnce({ Rules: [] })
      .resolves({ Rules: [liveRule()] });
    mock.on(CreateRuleCommand).rejects(priorityInUse());

    expect(await router.ensureRule(REF, TG)).toEqual({ ruleArn: RULE });
    expect(mock.commandCalls(CreateRuleCommand)).toHaveLength(1);
  });

  it('tries another priority when someone else took the first', async () => {
    const { mock, router } = setup();
    const preferred = preferredPriority(HOST);
    mock.on(DescribeRulesCommand).resolves({ Rules: [] });
    mock
      .on(CreateRuleCommand)
      .rejectsOnce(priorityInUse())
      .resolves({ Rules: [{ RuleArn: RULE }] });

    await router.ensureRule(REF, TG);

    expect(mock.commandCalls(CreateRuleCommand).map((call) => call.args[0].input.Priority)).toEqual([
      preferred,
      (preferred % 50_000) + 1,
    ]);
  });

  it('gives up after a bounded number of taken priorities, to be retried', async () => {
    const { mock, router } = setup();
    mock.on(DescribeRulesCommand).resolves({ Rules: [] });
    mock.on(CreateRuleCommand).rejects(priorityInUse());

    await expect(router.ensureRule(REF, TG)).rejects.toBeInstanceOf(TransientError);
    expect(mock.commandCalls(CreateRuleCommand)).toHaveLength(5);
  });
});

describe('ElbRouter.removeRule', () => {
  it('deletes the host rule, detaching the group while the environment sleeps', async () => {
    const { mock, router } = setup();
    mock.on(DescribeRulesCommand).resolves({ Rules: [liveRule(), otherRule(9), DEFAULT_RULE] });
    mock.on(DeleteRuleCommand).resolves({});

    await router.removeRule(REF);

    expect(mock.commandCalls(DeleteRuleCommand).map((call) => call.args[0].input)).toEqual([
      { RuleArn: RULE },
    ]);
    expect(mock.commandCalls(ModifyRuleCommand)).toHaveLength(0);
  });

  it('does nothing but look when the host has no rule', async () => {
    const { mock, router } = setup();
    mock.on(DescribeRulesCommand).resolves({ Rules: [otherRule(9), DEFAULT_RULE] });

    await router.removeRule(REF);

    expect(mock.calls()).toHaveLength(1);
  });

  it('deletes every rule a lost race duplicated, warming ones too, even ones already gone', async () => {
    const { mock, router } = setup();
    mock.on(DescribeRulesCommand).resolves({
      Rules: [liveRule({ RuleArn: `${RULE}-b`, Priority: '12' }), warmingRule({ Priority: '3' })],
    });
    mock.on(DeleteRuleCommand).rejects(new RuleNotFoundException({ message: 'gone', $metadata: {} }));

    await router.removeRule(REF);

    expect(mock.commandCalls(DeleteRuleCommand)).toHaveLength(2);
  });
});

/** The health check ElbRouter makes, as DescribeTargetGroups reports it. */
const CHECKED = {
  HealthCheckEnabled: true,
  HealthCheckProtocol: 'HTTP' as const,
  HealthCheckPort: 'traffic-port',
  HealthCheckPath: '/health',
  HealthCheckIntervalSeconds: 5,
  HealthCheckTimeoutSeconds: 4,
  HealthyThresholdCount: 2,
  UnhealthyThresholdCount: 2,
  Matcher: { HttpCode: '200-399' },
};

describe('ElbRouter.describe', () => {
  it('asks a recorded group for its health and health check directly, without looking it up by name', async () => {
    const { mock, router } = setup();
    mock.on(DescribeRulesCommand).resolves({ Rules: [liveRule(), DEFAULT_RULE] });
    mock
      .on(DescribeTargetHealthCommand)
      .resolves({ TargetHealthDescriptions: [{ TargetHealth: { State: 'healthy' } }] });
    mock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG, ...CHECKED }] });

    const seen = await router.describe({ ...REF, known: { targetGroupArn: TG } });

    expect(seen).toEqual({
      targetGroupArn: TG,
      ruleArn: RULE,
      warming: false,
      health: 'healthy',
      healthCheck: { path: '/health', standard: true },
    });
    expect(mock.commandCalls(DescribeTargetGroupsCommand).map((call) => call.args[0].input)).toEqual([
      { TargetGroupArns: [TG] },
    ]);
  });

  it('reports a health check whose port, matcher or timings are not its own as not standard', async () => {
    const drifts = [
      { HealthCheckPort: '8080' },
      { Matcher: { HttpCode: '200' } },
      { HealthCheckIntervalSeconds: 30 },
      { HealthyThresholdCount: 5 },
      { HealthCheckProtocol: 'HTTPS' as const },
    ];
    for (const drift of drifts) {
      const { mock, router } = setup();
      mock.on(DescribeRulesCommand).resolves({ Rules: [DEFAULT_RULE] });
      mock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
      mock
        .on(DescribeTargetGroupsCommand)
        .resolves({ TargetGroups: [{ TargetGroupArn: TG, ...CHECKED, ...drift }] });

      const seen = await router.describe({ ...REF, known: { targetGroupArn: TG } });

      expect(seen.healthCheck, JSON.stringify(drift)).toEqual({ path: '/health', standard: false });
    }
  });

  it('modifies the group to the wanted health check path with its own settings', async () => {
    const { mock, router } = setup();
    mock.on(ModifyTargetGroupCommand).resolves({});

    await router.updateTargetGroup(REF, TG, { port: 3000, healthPath: '/healthz' });

    expect(mock.commandCalls(ModifyTargetGroupCommand)[0]?.args[0].input).toEqual({
      TargetGroupArn: TG,
      ...CHECKED,
      HealthCheckPath: '/healthz',
    });
  });

  it('looks the group up by name when the recorded one is gone', async () => {
    const { mock, router } = setup();
    mock.on(DescribeRulesCommand).resolves({ Rules: [DEFAULT_RULE] });
    mock.on(DescribeTargetHealthCommand).rejects(notFound());
    mock.on(DescribeTargetGroupsCommand).rejects(notFound());

    const seen = await router.describe({ ...REF, known: { targetGroupArn: TG } });

    expect(seen).toEqual({ targetGroupArn: undefined, ruleArn: undefined, warming: false, health: 'none' });
  });

  it('reports nothing when neither group nor rule exists', async () => {
    const { mock, router } = setup();
    mock.on(DescribeTargetGroupsCommand).rejects(notFound());
    mock.on(DescribeRulesCommand).resolves({ Rules: [DEFAULT_RULE] });

    expect(await router.describe(REF)).toEqual({
      targetGroupArn: undefined,
      ruleArn: undefined,
      warming: false,
      health: 'none',
    });
    expect(mock.commandCalls(DescribeTargetHealthCommand)).toHaveLength(0);
  });

  it('reports a warming rule as no live rule, but as holding the group attached', async () => {
    const { mock, router } = setup();
    mock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    mock.on(DescribeRulesCommand).resolves({ Rules: [warmingRule()] });
    mock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });

    expect(await router.describe(REF)).toEqual({
      targetGroupArn: TG,
      ruleArn: undefined,
      warming: true,
      health: 'none',
    });
    expect(mock.commandCalls(DescribeTargetHealthCommand)[0]?.args[0].input).toEqual({ TargetGroupArn: TG });
  });

  it.each<[TargetHealthStateEnum[], TargetHealth]>([
    [['unhealthy', 'healthy'], 'healthy'],
    [['initial', 'unhealthy'], 'initial'],
    [['unused'], 'initial'],
    [['unhealthy', 'draining'], 'unhealthy'],
    [['unhealthy.draining'], 'unhealthy'],
  ])('sums targets in states %j up as %s', async (states, health) => {
    const { mock, router } = setup();
    mock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    mock.on(DescribeRulesCommand).resolves({ Rules: [liveRule()] });
    mock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: states.map((State) => ({ TargetHealth: { State } })),
    });

    expect(await router.describe(REF)).toEqual({ targetGroupArn: TG, ruleArn: RULE, warming: false, health });
  });

  it('turns throttling into a TransientError', async () => {
    const { mock, router } = setup();
    mock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
    mock
      .on(DescribeRulesCommand)
      .rejects(
        Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }),
      );

    await expect(router.describe(REF)).rejects.toBeInstanceOf(TransientError);
  });
});

describe('ElbRouter.deleteTargetGroup', () => {
  it('deletes the rules that forward to the group, then the group', async () => {
    const { mock, router } = setup();
    mock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    mock.on(DescribeRulesCommand).resolves({ Rules: [warmingRule(), otherRule(4), DEFAULT_RULE] });
    mock.on(DeleteRuleCommand).resolves({});
    mock.on(DeleteTargetGroupCommand).resolves({});

    await router.deleteTargetGroup(REF);

    expect(mock.commandCalls(DeleteRuleCommand).map((call) => call.args[0].input)).toEqual([
      { RuleArn: RULE },
    ]);
    expect(mock.commandCalls(DeleteTargetGroupCommand)[0]?.args[0].input).toEqual({ TargetGroupArn: TG });
  });

  it('is done when the group does not exist', async () => {
    const { mock, router } = setup();
    mock.on(DescribeTargetGroupsCommand).rejects(notFound());

    await router.deleteTargetGroup(REF);

    expect(mock.commandCalls(DeleteTargetGroupCommand)).toHaveLength(0);
  });

  it('asks to be retried while the group is still in use', async () => {
    const { mock, router } = setup();
    mock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    mock.on(DescribeRulesCommand).resolves({ Rules: [] });
    mock
      .on(DeleteTargetGroupCommand)
      .rejects(new ResourceInUseException({ message: 'in use', $metadata: {} }));

    await expect(router.deleteTargetGroup(REF)).rejects.toBeInstanceOf(TransientError);
  });
});
