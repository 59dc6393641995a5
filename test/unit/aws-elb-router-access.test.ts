import {
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ElbRouter } from '@matinee/aws';
import { type EnvironmentRef, environmentId, environmentRef, MatineeError } from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { fakeAws } from '../support/fake-aws.ts';

/** The ELB router's cookie condition for private previews: the exact requests it sends. */
const HOST = 'fix-login-pr42.preview.example.com';
const LISTENER =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/matinee-test/50dc6c495c0c9188/f2f7dc8efc522ab2';
const TG =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/mt-fix-login-pr42-x/0123456789abcdef';
const RULE =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/matinee-test/50dc/f2f7/0001';
const REF: EnvironmentRef = environmentRef(
  { stage: 'test', domain: 'preview.example.com' },
  { id: environmentId('acme/web', 42), slug: 'fix-login-pr42', host: HOST },
);
const SECRET = '0123456789abcdef0123456789abcdef';
const ROTATED = 'fedcba9876543210fedcba9876543210';
const ACCESS = { cookieName: 'matinee_fix-login-pr42', secret: SECRET };
const BY_HOST = { Field: 'host-header', HostHeaderConfig: { Values: [HOST] } };
const cookie = (secret: string) => ({
  Field: 'http-header',
  HttpHeaderConfig: { HttpHeaderName: 'Cookie', Values: [`*matinee_fix-login-pr42=${secret}*`] },
});
const UNMATCHABLE = { Field: 'source-ip', SourceIpConfig: { Values: ['255.255.255.255/32'] } };
const FORWARD = [{ Type: 'forward' as const, TargetGroupArn: TG }];
const rule = (conditions: Rule['Conditions']): Rule => ({
  RuleArn: RULE,
  Priority: '7',
  Conditions: conditions,
  Actions: FORWARD,
});

function setup(rules: Rule[]) {
  const elb = new ElasticLoadBalancingV2Client({ region: 'eu-west-1' });
  const mock = mockClient(elb);
  mock.on(DescribeRulesCommand).resolves({ Rules: rules });
  mock.on(ModifyRuleCommand).resolves({});
  mock.on(CreateRuleCommand).resolves({ Rules: [{ RuleArn: RULE }] });
  return { mock, router: new ElbRouter({ elb, vpcId: 'vpc-1', listenerArn: LISTENER }) };
}

describe('a private preview’s host rule', () => {
  it('goes live with the host and the cookie: 2 conditions, 2 wildcards', async () => {
    const { mock, router } = setup([rule([BY_HOST, UNMATCHABLE])]);

    await router.ensureRule(REF, TG, ACCESS);

    expect(mock.commandCalls(ModifyRuleCommand).map((call) => call.args[0].input)).toEqual([
      { RuleArn: RULE, Conditions: [BY_HOST, cookie(SECRET)], Actions: FORWARD },
    ]);
  });

  it('is created with the cookie condition when there is no rule yet', async () => {
    const { mock, router } = setup([]);

    await router.ensureRule(REF, TG, ACCESS);

    const [create] = mock.commandCalls(CreateRuleCommand).map((call) => call.args[0].input);
    expect(create?.Conditions).toEqual([BY_HOST, cookie(SECRET)]);
    expect(create?.Actions).toEqual(FORWARD);
  });

  it('gets the new secret in one ModifyRule when the secret rotates', async () => {
    const { mock, router } = setup([rule([BY_HOST, cookie(SECRET)])]);

    await router.ensureRule(REF, TG, { ...ACCESS, secret: ROTATED });

    expect(mock.commandCalls(ModifyRuleCommand).map((call) => call.args[0].input)).toEqual([
      { RuleArn: RULE, Conditions: [BY_HOST, cookie(ROTATED)], Actions: FORWARD },
    ]);
  });

  it('is not written when it already holds the cookie (in any order, in the case AWS answers with)', async () => {
    const upper = {
      Field: 'http-header',
      HttpHeaderConfig: {
        HttpHeaderName: 'cookie',
        Values: [`*MATINEE_FIX-LOGIN-PR42=${SECRET.toUpperCase()}*`],
      },
    };
    const { mock, router } = setup([rule([upper, { Field: 'host-header', Values: [HOST] }])]);

    expect(await router.ensureRule(REF, TG, ACCESS)).toEqual({ ruleArn: RULE });
    expect(mock.commandCalls(ModifyRuleCommand)).toHaveLength(0);
  });

  it('loses the cookie when the preview becomes public, and gains it when it becomes private', async () => {
    const toPublic = setup([rule([BY_HOST, cookie(SECRET)])]);
    await toPublic.router.ensureRule(REF, TG);
    expect(toPublic.mock.commandCalls(ModifyRuleCommand)[0]?.args[0].input.Conditions).toEqual([BY_HOST]);

    const toPrivate = setup([rule([BY_HOST])]);
    await toPrivate.router.ensureRule(REF, TG, ACCESS);
    expect(toPrivate.mock.commandCalls(ModifyRuleCommand)[0]?.args[0].input.Conditions).toEqual([
      BY_HOST,
      cookie(SECRET),
    ]);
  });

  it('keeps its cookie when a wake re-attaches the group (ensureTargetGroup knows no cookie)', async () => {
    const OTHER = TG.replace('0123456789abcdef', 'aaaaaaaaaaaaaaaa');
    const { mock, router } = setup([rule([BY_HOST, cookie(SECRET)])]);
    mock.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: OTHER }] });
    mock.on(ModifyTargetGroupAttributesCommand).resolves({});

    await router.ensureTargetGroup(REF, { port: 3000, healthPath: '/' });

    expect(mock.commandCalls(ModifyRuleCommand).map((call) => call.args[0].input)).toEqual([
      { RuleArn: RULE, Actions: [{ Type: 'forward', TargetGroupArn: OTHER }] },
    ]);
  });

  it('is reported by describe with its cookie, so reconcile sees a rotation', async () => {
    const { mock, router } = setup([rule([BY_HOST, cookie(SECRET)])]);
    mock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    mock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });

    const described = await router.describe({ ...REF, known: { targetGroupArn: TG } });

    expect(described).toMatchObject({ ruleArn: RULE, access: ACCESS });
    const plain = setup([rule([BY_HOST])]);
    plain.mock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    plain.mock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    expect((await plain.router.describe({ ...REF, known: { targetGroupArn: TG } })).access).toBeUndefined();
  });

  it('refuses a cookie name or secret that would put a wildcard in the condition, sending nothing', async () => {
    for (const access of [
      { cookieName: 'matinee_*', secret: SECRET },
      { cookieName: 'matinee_x', secret: `${SECRET.slice(0, 31)}?` },
      { cookieName: 'matinee_x', secret: SECRET.toUpperCase() },
      { cookieName: 'matinee_x', secret: 'abc' },
      { cookieName: 'matinee_x', secret: 'a'.repeat(120) },
    ]) {
      const { mock, router } = setup([rule([BY_HOST])]);
      await expect(router.ensureRule(REF, TG, access), JSON.stringify(access)).rejects.toThrow(MatineeError);
      expect(mock.commandCalls(ModifyRuleCommand)).toHaveLength(0);
    }
  });
});

describe('the cookie condition on the stateful fake, which checks conditions as ELBv2 does', () => {
  it('holds the live rule with its cookie, takes the rotated one, and refuses a sixth wildcard', async () => {
    const aws = fakeAws();
    const router = new ElbRouter({
      elb: aws.clients.elb,
      vpcId: aws.config.vpcId,
      listenerArn: aws.config.listenerArn,
    });
    const { targetGroupArn } = await router.ensureTargetGroup(REF, { port: 3000, healthPath: '/' });

    await router.ensureRule(REF, targetGroupArn, ACCESS);
    expect([...aws.rules.values()].map((held) => held.conditions)).toEqual([[BY_HOST, cookie(SECRET)]]);
    await router.ensureRule(REF, targetGroupArn, { ...ACCESS, secret: ROTATED });
    expect([...aws.rules.values()].map((held) => held.conditions)).toEqual([[BY_HOST, cookie(ROTATED)]]);
    expect((await router.describe(REF)).access).toEqual({ ...ACCESS, secret: ROTATED });

    const [held] = aws.rules.keys();
    await expect(
      aws.clients.elb.send(
        new ModifyRuleCommand({
          RuleArn: held,
          Conditions: [
            { Field: 'host-header', HostHeaderConfig: { Values: ['*.preview.example.com'] } },
            { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'Cookie', Values: ['*a*', '*b??'] } },
          ],
        }),
      ),
    ).rejects.toThrow(/five wildcards/);
    expect([...aws.rules.values()].map((rule) => rule.conditions)).toEqual([[BY_HOST, cookie(ROTATED)]]);
  });
});
