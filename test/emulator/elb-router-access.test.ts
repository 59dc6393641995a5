import { DescribeRulesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ElbRouter } from '@matinee/aws';
import { type EnvironmentRef, environmentId, environmentRef } from '@matinee/core';
import { describe, expect, inject, it } from 'vitest';
import { motoStage } from './support/moto-stage.ts';

/**
 * The cookie condition of a private preview's host rule, sent to moto's ELBv2 (an implementation nobody here
 * wrote): AWS's request shapes for it are accepted, kept, and read back by the router (see
 * test/unit/aws-elb-router-access.test.ts for the exact requests).
 */
const SECRET = '0123456789abcdef0123456789abcdef';
const ROTATED = 'fedcba9876543210fedcba9876543210';

describe.skipIf(!inject('motoEndpoint'))("a private preview's host rule on moto", () => {
  it('goes live with its cookie condition, takes a rotated secret in place, and reads back as it was set', async () => {
    const moto = await motoStage(inject('motoEndpoint'), { access: 'link' });
    const router = new ElbRouter({
      elb: moto.admin.elb,
      vpcId: moto.settings.network.vpcId,
      listenerArn: moto.settings.loadBalancer.listenerArn,
    });
    const host = `fix-login-pr42.${moto.settings.domain}`;
    const ref: EnvironmentRef = environmentRef(
      { stage: moto.stage, domain: moto.settings.domain },
      { id: environmentId('acme/web', 42), slug: 'fix-login-pr42', host },
    );
    const access = { cookieName: 'matinee_fix-login-pr42', secret: SECRET };
    const held = async () =>
      (
        await moto.admin.elb.send(
          new DescribeRulesCommand({ ListenerArn: moto.settings.loadBalancer.listenerArn }),
        )
      ).Rules?.filter((rule) => !rule.IsDefault) ?? [];
    const cookieValues = async () =>
      (await held()).flatMap(
        (rule) =>
          rule.Conditions?.filter((c) => c.Field === 'http-header').map((c) => ({
            name: c.HttpHeaderConfig?.HttpHeaderName,
            values: c.HttpHeaderConfig?.Values,
          })) ?? [],
      );

    const { targetGroupArn } = await router.ensureTargetGroup(ref, { port: 3000, healthPath: '/' });
    const { ruleArn } = await router.ensureRule(ref, targetGroupArn, access);

    const [rule, ...others] = await held();
    expect(others).toEqual([]);
    expect(rule?.RuleArn).toBe(ruleArn);
    expect(rule?.Conditions?.map((c) => c.Field).sort()).toEqual(['host-header', 'http-header']);
    expect(await cookieValues()).toEqual([
      { name: 'Cookie', values: [`*matinee_fix-login-pr42=${SECRET}*`] },
    ]);
    expect(await router.describe(ref)).toMatchObject({ ruleArn, access, warming: false });

    await router.ensureRule(ref, targetGroupArn, { ...access, secret: ROTATED });
    expect(await cookieValues()).toEqual([
      { name: 'Cookie', values: [`*matinee_fix-login-pr42=${ROTATED}*`] },
    ]);
    expect((await router.describe(ref)).access).toEqual({ ...access, secret: ROTATED });

    // A wake's re-attach leaves the live rule and its cookie alone; public again drops the condition.
    await router.ensureTargetGroup(ref, { port: 3000, healthPath: '/' });
    expect((await router.describe(ref)).access).toEqual({ ...access, secret: ROTATED });
    await router.ensureRule(ref, targetGroupArn);
    expect(await cookieValues()).toEqual([]);
    expect((await router.describe(ref)).access).toBeUndefined();
  });
});
