import { beforeAll, describe, expect, it } from 'vitest';
import { LINKS, readSettings, stageSettingsSchema } from '../../functions/lib/settings.ts';
import { controlPlane, type Deployment, deploy, ofType, one, platformInstalled } from './sst-harness.ts';

/**
 * The real sst.config.ts for a private stage: GitHub sign-in, an internal load balancer in the user's
 * private subnets, and an allow-list of the company's address ranges.
 */
const DOMAIN = 'previews.acme.internal.example';
const VPC = 'vpc-0123456789abcdef0';
const SUBNETS = ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'];
const OAUTH = { GithubClientId: 'Iv1.0123456789abcdef', GithubClientSecret: 'oauth-client-secret' };

let d: Deployment;

beforeAll(async () => {
  if (!platformInstalled())
    throw new Error(
      'SST platform missing: run `npm run sst:install` (offline, ~40 s) before the infra tests',
    );
  d = await deploy({
    stage: 'internal',
    env: {
      MATINEE_DOMAIN: DOMAIN,
      MATINEE_VPC_ID: VPC,
      MATINEE_SUBNET_IDS: SUBNETS.join(','),
      MATINEE_ACCESS: 'github',
      MATINEE_INTERNAL: 'true',
      MATINEE_ALLOW_CIDRS: '10.20.0.0/16, 192.0.2.0/24,2001:db8:a::/48',
    },
    secrets: { GithubWebhookSecret: 'webhook-secret', GithubToken: 'github_pat_test', ...OAUTH },
  });
}, 120_000);

const state = (type: string, name: string) => one(d, type, name).state;
const control = () => controlPlane(d);
const build = (id: string) => {
  const found = d.builds.find((b) => b.functionID === id);
  if (!found) throw new Error(`no build ${id}`);
  return found;
};

describe('an internal load balancer', () => {
  it('has only private addresses, in the given (private) subnets', () => {
    expect(state('aws:lb/loadBalancer:LoadBalancer', 'MatineeLoadBalancer')).toMatchObject({
      internal: true,
      loadBalancerType: 'application',
      subnets: SUBNETS,
    });
  });

  it('puts previews in the same subnets without public addresses', () => {
    for (const { links } of control())
      expect(stageSettingsSchema.parse(links[LINKS.settings]).network).toMatchObject({
        vpcId: VPC,
        subnets: SUBNETS,
        assignPublicIp: false,
      });
  });

  it('keeps the HTTPS listener and its certificate: ACM validates by DNS, wherever the load balancer is', () => {
    const certificate = state('aws:acm/certificate:Certificate', 'MatineeCertificate');
    expect(state('aws:lb/listener:Listener', 'MatineeHttps')).toMatchObject({
      port: 443,
      certificateArn: certificate.arn,
    });
  });
});

describe('the allow-list', () => {
  const alb = () => one(d, 'aws:ec2/securityGroup:SecurityGroup', 'MatineeAlbSecurityGroup');
  const ingress = () =>
    ofType(d, 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule')
      .map((rule) => rule.inputs)
      .filter((rule) => rule.securityGroupId === alb().id);

  it('admits exactly its ranges, on 80 and 443, to the load balancer (previews and dashboard alike)', () => {
    const rules = ingress().map((rule) => ({
      port: rule.fromPort,
      to: rule.toPort,
      protocol: rule.ipProtocol,
      from: rule.cidrIpv4 ?? rule.cidrIpv6,
      family: rule.cidrIpv4 ? 'V4' : 'V6',
    }));
    const expected = [80, 443].flatMap((port) => [
      { port, to: port, protocol: 'tcp', from: '10.20.0.0/16', family: 'V4' },
      { port, to: port, protocol: 'tcp', from: '192.0.2.0/24', family: 'V4' },
      { port, to: port, protocol: 'tcp', from: '2001:db8:a::/48', family: 'V6' },
    ]);
    expect(rules).toEqual(expect.arrayContaining(expected));
    expect(rules).toHaveLength(expected.length);
    expect(rules.map((rule) => rule.from)).not.toContain('0.0.0.0/0');
    expect(rules.map((rule) => rule.from)).not.toContain('::/0');
  });

  it('leaves the load balancer on that one group, and the tasks open to it only', () => {
    expect(state('aws:lb/loadBalancer:LoadBalancer', 'MatineeLoadBalancer').securityGroups).toEqual([
      alb().id,
    ]);
    expect(alb().inputs.description).toContain('MATINEE_ALLOW_CIDRS');
    const tasks = one(d, 'aws:ec2/securityGroup:SecurityGroup', 'MatineeTaskSecurityGroup');
    const intoTasks = ofType(d, 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule')
      .map((rule) => rule.inputs)
      .filter((rule) => rule.securityGroupId === tasks.id);
    expect(intoTasks).toEqual([expect.objectContaining({ referencedSecurityGroupId: alb().id })]);
  });
});

describe('GitHub sign-in', () => {
  it('tells every function the access mode', () => {
    for (const { links } of control())
      expect(stageSettingsSchema.parse(links[LINKS.settings]).access).toEqual({ mode: 'github' });
  });

  it("links the OAuth client to the wake function only, which serves the sign-in on the stage's domain", () => {
    const wake = build('MatineeWake');
    expect(readSettings(wake.links, { dashboardPassword: true, oauth: true }).oauth).toEqual({
      clientId: OAUTH.GithubClientId,
      clientSecret: OAUTH.GithubClientSecret,
    });
    for (const other of d.builds.filter((b) => b.functionID !== 'MatineeWake')) {
      expect(other.links, other.functionID).not.toHaveProperty(LINKS.githubClientId);
      expect(other.links, other.functionID).not.toHaveProperty(LINKS.githubClientSecret);
    }
  });
});
