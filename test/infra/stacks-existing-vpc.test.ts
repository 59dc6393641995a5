import { beforeAll, describe, expect, it } from 'vitest';
import { LINKS, stageSettingsSchema } from '../../functions/lib/settings.ts';
import {
  ACCOUNT,
  controlPlane,
  type Deployment,
  deploy,
  ofType,
  one,
  platformInstalled,
  REGION,
} from './sst-harness.ts';

/**
 * The real sst.config.ts for a stage in the user's own VPC, without a Route 53 zone, every setting changed
 * from its default.
 */
const DOMAIN = 'previews.acme.dev';
const VPC = 'vpc-0123456789abcdef0';
const SUBNETS = ['subnet-0aaaaaaaaaaaaaaaa', 'subnet-0bbbbbbbbbbbbbbbb'];

let d: Deployment;

beforeAll(async () => {
  if (!platformInstalled())
    throw new Error(
      'SST platform missing: run `npm run sst:install` (offline, ~40 s) before the infra tests',
    );
  d = await deploy({
    stage: 'staging',
    env: {
      MATINEE_DOMAIN: DOMAIN,
      MATINEE_VPC_ID: VPC,
      MATINEE_SUBNET_IDS: SUBNETS.join(', '),
      MATINEE_TASK_CPU: '512',
      MATINEE_TASK_MEMORY: '2048',
      MATINEE_IDLE: '30m',
      MATINEE_SWEEP_SCHEDULE: 'rate(2 minutes)',
      MATINEE_RESYNC_SCHEDULE: 'cron(15 * * * ? *)',
      MATINEE_MAX_AWAKE: '40',
      MATINEE_GITHUB_API_URL: 'https://github.acme.dev/api/v3',
      MATINEE_ECR_REPOSITORIES: 'web,team/*,arn:aws:ecr:us-west-2:210987654321:repository/shared/base',
      MATINEE_PREVIEW_EGRESS: '0.0.0.0/0:443,10.20.0.0/16,2001:db8::/32:5432-5433',
    },
    secrets: { GithubWebhookSecret: 'webhook-secret', GithubAppId: '1234', GithubPrivateKey: 'pem' },
  });
}, 120_000);

const state = (type: string, name: string) => one(d, type, name).state;
const control = () => controlPlane(d);

describe('in an existing VPC', () => {
  it('creates no VPC and puts the load balancer and the previews in the given subnets', () => {
    expect(ofType(d, 'sst:aws:Vpc')).toEqual([]);
    expect(ofType(d, 'aws:ec2/vpc:Vpc')).toEqual([]);
    expect(ofType(d, 'aws:ec2/subnet:Subnet')).toEqual([]);
    expect(state('aws:lb/loadBalancer:LoadBalancer', 'MatineeLoadBalancer').subnets).toEqual(SUBNETS);
    for (const group of ofType(d, 'aws:ec2/securityGroup:SecurityGroup'))
      expect(group.inputs.vpcId).toBe(VPC);
    const settings = stageSettingsSchema.parse(control()[0]?.links[LINKS.settings]);
    expect(settings.network).toMatchObject({ vpcId: VPC, subnets: SUBNETS, assignPublicIp: true });
  });
});

describe('without a hosted zone', () => {
  it('creates no DNS records, waits for the certificate, and prints the records to create', () => {
    expect(ofType(d, 'aws:route53/record:Record')).toEqual([]);
    expect(d.calls.filter((c) => c.token === 'aws:route53/getZone:getZone')).toEqual([]);
    const validation = state(
      'aws:acm/certificateValidation:CertificateValidation',
      'MatineeCertificateValidated',
    );
    expect(validation.validationRecordFqdns).toBeUndefined();
    const certificate = state('aws:acm/certificate:Certificate', 'MatineeCertificate');
    const dnsName = state('aws:lb/loadBalancer:LoadBalancer', 'MatineeLoadBalancer').dnsName;
    const [check] = certificate.domainValidationOptions;
    expect(d.outputs.dnsRecords).toEqual([
      expect.objectContaining({
        name: check.resourceRecordName,
        type: 'CNAME',
        value: check.resourceRecordValue,
      }),
      expect.objectContaining({ name: `*.${DOMAIN}`, type: 'CNAME', value: dnsName }),
      expect.objectContaining({ name: DOMAIN, value: dnsName }),
    ]);
    const printed = d.logs.join('\n');
    expect(printed).toContain('no MATINEE_HOSTED_ZONE');
    expect(printed).toContain(check.resourceRecordName);
    expect(printed).toContain(`*.${DOMAIN}  CNAME  ${dnsName}`);
  });
});

describe('settings from the environment', () => {
  it('schedule the sweep and the resync', () => {
    expect(state('aws:cloudwatch/eventRule:EventRule', 'MatineeSweepScheduleRule').scheduleExpression).toBe(
      'rate(2 minutes)',
    );
    expect(state('aws:cloudwatch/eventRule:EventRule', 'MatineeResyncScheduleRule').scheduleExpression).toBe(
      'cron(15 * * * ? *)',
    );
  });

  it('reach the functions', () => {
    for (const build of control()) {
      const linked = build.links[LINKS.settings];
      expect(stageSettingsSchema.parse(linked)).toMatchObject({
        stage: 'staging',
        domain: DOMAIN,
        maxAwake: 40,
        githubApiUrl: 'https://github.acme.dev/api/v3',
        logGroup: '/matinee/staging/previews',
      });
      expect(linked?.defaults).toEqual({ cpu: 512, memory: 2048, idleSeconds: 1800 });
    }
    const reconcile = d.builds.find((b) => b.functionID === 'MatineeReconcile');
    expect(reconcile?.links[LINKS.githubAppId]).toMatchObject({ value: '1234' });
  });

  it('leave a non-production table deletable', () => {
    expect(state('aws:dynamodb/table:Table', 'MatineeTableTable').deletionProtectionEnabled).toBe(false);
  });
});

describe('what previews may pull and reach', () => {
  it("lets ECS pull from the stage's own repositories and those MATINEE_ECR_REPOSITORIES lists, no others", () => {
    const role = one(d, 'aws:iam/role:Role', 'MatineeTaskExecutionRole');
    const statements = role.inputs.inlinePolicies.flatMap(
      (policy: { policy: string }) => JSON.parse(policy.policy).Statement,
    );
    const repository = (name: string) => `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${name}`;
    expect(
      statements.filter((s: { Action: string[] }) => s.Action.some((a) => a.startsWith('ecr:'))),
    ).toEqual([
      { Effect: 'Allow', Action: ['ecr:GetAuthorizationToken'], Resource: ['*'] },
      {
        Effect: 'Allow',
        Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        Resource: [
          repository('matinee-staging'),
          repository('matinee-staging/*'),
          repository('web'),
          repository('team/*'),
          'arn:aws:ecr:us-west-2:210987654321:repository/shared/base',
        ],
      },
    ]);
  });

  it('lets the tasks connect only where MATINEE_PREVIEW_EGRESS says, one outbound rule per entry', () => {
    const tasks = one(d, 'aws:ec2/securityGroup:SecurityGroup', 'MatineeTaskSecurityGroup');
    expect(tasks.inputs.egress ?? []).toEqual([]);
    const egress = ofType(d, 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule')
      .map((r) => r.inputs)
      .filter((rule) => rule.securityGroupId === tasks.id)
      .sort((a, b) => a.description.localeCompare(b.description));
    const volumes = one(d, 'aws:ec2/securityGroup:SecurityGroup', 'MatineeVolumesSecurityGroup');
    expect(egress).toEqual([
      {
        securityGroupId: tasks.id,
        description: 'MATINEE_PREVIEW_EGRESS 0.0.0.0/0:443',
        cidrIpv4: '0.0.0.0/0',
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
      },
      {
        securityGroupId: tasks.id,
        description: 'MATINEE_PREVIEW_EGRESS 10.20.0.0/16',
        cidrIpv4: '10.20.0.0/16',
        ipProtocol: '-1',
      },
      {
        securityGroupId: tasks.id,
        description: 'MATINEE_PREVIEW_EGRESS 2001:db8::/32:5432-5433',
        cidrIpv6: '2001:db8::/32',
        ipProtocol: 'tcp',
        fromPort: 5432,
        toPort: 5433,
      },
      // Whatever the list says, a preview reaches its volumes (stacks/volumes.ts).
      {
        securityGroupId: tasks.id,
        description: 'NFS to the volumes',
        referencedSecurityGroupId: volumes.id,
        ipProtocol: 'tcp',
        fromPort: 2049,
        toPort: 2049,
      },
    ]);
  });
});
