import { beforeAll, describe, expect, it } from 'vitest';
import { LINKS } from '../../functions/lib/settings.ts';
import { volumeRolePolicy } from '../../packages/aws/src/iam-volume-roles.ts';
import { JANITOR_MOUNT } from '../../packages/aws/src/volume-janitor.ts';
import { janitorPermissions, previewVolumeBoundary } from '../../stacks/permissions.ts';
import { decide } from '../support/iam-simulation.ts';
import {
  ACCOUNT,
  type Deployment,
  deploy,
  ofType,
  one,
  platformInstalled,
  policies,
  REGION,
} from './sst-harness.ts';

/**
 * The stage's volumes (stacks/volumes.ts) as the real sst.config.ts makes them under Pulumi's mocks: a new
 * VPC, stage `production`.
 */
let d: Deployment;

beforeAll(async () => {
  if (!platformInstalled())
    throw new Error('SST platform missing: run `npm run sst:install` before the infra tests');
  d = await deploy({
    stage: 'production',
    env: { MATINEE_DOMAIN: 'preview.example.com', MATINEE_HOSTED_ZONE: 'example.com' },
    secrets: { GithubWebhookSecret: 'webhook-secret', GithubToken: 'github_pat_test' },
  });
}, 120_000);

const group = (name: string) => one(d, 'aws:ec2/securityGroup:SecurityGroup', name);
const asIam = (statements: ReturnType<typeof janitorPermissions>) =>
  statements.map((s) => ({
    Effect: 'Allow',
    Action: s.actions,
    Resource: s.resources,
    Condition: Object.fromEntries((s.conditions ?? []).map((c) => [c.test, { [c.variable]: c.values }])),
  }));

describe('the volumes', () => {
  it('are one encrypted file system, with a mount target in each of the stage’s subnets', () => {
    const fs = one(d, 'aws:efs/fileSystem:FileSystem', 'MatineeVolumes');
    expect(fs.inputs).toMatchObject({ encrypted: true, tags: { 'matinee:stage': 'production' } });
    const subnets = ofType(d, 'aws:ec2/subnet:Subnet')
      .filter((s) => s.name.includes('Public'))
      .map((s) => s.id);
    const targets = ofType(d, 'aws:efs/mountTarget:MountTarget').map((t) => t.inputs);
    expect(targets.map((t) => t.subnetId).sort()).toEqual([...subnets].sort());
    for (const target of targets) {
      expect(target.fileSystemId).toBe(fs.id);
      expect(target.securityGroups).toEqual([group('MatineeVolumesSecurityGroup').id]);
    }
  });

  it('admit NFS only, from the preview tasks and the janitor only', () => {
    const nfs = group('MatineeVolumesSecurityGroup');
    expect(nfs.inputs.ingress ?? []).toEqual([]);
    const into = ofType(d, 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule')
      .map((r) => r.inputs)
      .filter((rule) => rule.securityGroupId === nfs.id);
    expect(into.map((rule) => rule.referencedSecurityGroupId).sort()).toEqual(
      [group('MatineeTaskSecurityGroup').id, group('MatineeJanitorSecurityGroup').id].sort(),
    );
    for (const rule of into) expect(rule).toMatchObject({ ipProtocol: 'tcp', fromPort: 2049, toPort: 2049 });
    // The janitor may reach the volumes and nothing else.
    const janitor = group('MatineeJanitorSecurityGroup');
    const out = ofType(d, 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule')
      .map((r) => r.inputs)
      .filter((rule) => rule.securityGroupId === janitor.id);
    expect(out).toEqual([
      {
        securityGroupId: janitor.id,
        referencedSecurityGroupId: nfs.id,
        description: 'NFS to the volumes',
        ipProtocol: 'tcp',
        fromPort: 2049,
        toPort: 2049,
      },
    ]);
  });

  it('give the stage’s shared task role nothing on them: previews with volumes run as roles of their own', () => {
    const taskRole = one(d, 'aws:iam/role:Role', 'MatineePreviewTaskRole');
    const attached = ofType(d, 'aws:iam/rolePolicy:RolePolicy').filter((p) => p.inputs.role === taskRole.id);
    expect(attached).toEqual([]);
    expect(taskRole.inputs.inlinePolicies ?? []).toEqual([]);
  });

  it('bound every environment role to mounting through an access point, never the janitor’s, never as root', () => {
    const fs = one(d, 'aws:efs/fileSystem:FileSystem', 'MatineeVolumes');
    const janitorPoint = one(d, 'aws:efs/accessPoint:AccessPoint', 'MatineeJanitorAccessPoint');
    const boundary = one(d, 'aws:iam/policy:Policy', 'MatineePreviewVolumeBoundary');
    expect(boundary.inputs).toMatchObject({
      name: 'matinee-production-preview-volumes',
      path: '/matinee/production/',
    });
    const document = JSON.parse(boundary.inputs.policy);
    const expected = previewVolumeBoundary({
      partition: 'aws',
      region: REGION,
      account: ACCOUNT,
      fileSystemArn: fs.state.arn,
      janitorAccessPointArn: janitorPoint.state.arn,
    });
    expect(document.Statement).toEqual(asIam(expected));
    expect(JSON.stringify(document)).not.toContain('ClientRootAccess');
    expect(document.Statement[0].Condition.StringNotEquals['elasticfilesystem:AccessPointArn']).toEqual([
      janitorPoint.state.arn,
    ]);
  });

  it('admit no NFS client without IAM, and by their own policy only the janitor, through its access point, over TLS', () => {
    const fs = one(d, 'aws:efs/fileSystem:FileSystem', 'MatineeVolumes');
    const policies = ofType(d, 'aws:efs/fileSystemPolicy:FileSystemPolicy');
    expect(policies).toHaveLength(1);
    expect(policies[0]?.inputs.fileSystemId).toBe(fs.id);
    const document = JSON.parse(policies[0]?.inputs.policy);
    const janitorPoint = one(d, 'aws:efs/accessPoint:AccessPoint', 'MatineeJanitorAccessPoint');
    const [tls, janitor, ...rest] = document.Statement;
    expect(tls).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(janitor.Principal.AWS).toBe(one(d, 'aws:iam/role:Role', 'MatineeVolumeJanitorRole').state.arn);
    expect(janitor.Condition.StringEquals['elasticfilesystem:AccessPointArn']).toBe(janitorPoint.state.arn);
    // An allow here would let its principal through any access point it names (EFS honours an allow in
    // either policy): the previews' roles are granted their own access points by their own policies alone.
    expect(rest).toEqual([]);
    expect(JSON.stringify(document)).not.toContain(
      one(d, 'aws:iam/role:Role', 'MatineePreviewTaskRole').state.arn,
    );
  });

  it("give the janitor the stage's directory as root, in the VPC, behind its own group", () => {
    const fs = one(d, 'aws:efs/fileSystem:FileSystem', 'MatineeVolumes');
    const point = one(d, 'aws:efs/accessPoint:AccessPoint', 'MatineeJanitorAccessPoint');
    expect(point.inputs).toMatchObject({
      fileSystemId: fs.id,
      posixUser: { uid: 0, gid: 0 },
      rootDirectory: { path: '/production', creationInfo: { ownerUid: 0, ownerGid: 0, permissions: '0755' } },
    });
    const fn = one(d, 'aws:lambda/function:Function', 'MatineeVolumeJanitorFunction').inputs;
    expect(fn.fileSystemConfig).toEqual({ arn: point.state.arn, localMountPath: JANITOR_MOUNT });
    expect(fn.vpcConfig.securityGroupIds).toEqual([group('MatineeJanitorSecurityGroup').id]);
    expect(fn.timeout).toBe(900);
    const inline = policies(d).filter(
      (p) => p.resource === 'MatineeVolumeJanitorRole' && p.kind.startsWith('inline'),
    );
    const statements = inline.flatMap((p) => p.document.Statement);
    expect(statements).toEqual(
      asIam(
        janitorPermissions({
          partition: 'aws',
          region: REGION,
          account: ACCOUNT,
          fileSystemArn: fs.state.arn,
          accessPointArn: point.state.arn,
        }),
      ),
    );
  });

  it("tell reconcile and resync the file system, the janitor and the roles' boundary, through the stage's settings", () => {
    const fs = one(d, 'aws:efs/fileSystem:FileSystem', 'MatineeVolumes');
    const janitor = one(d, 'aws:lambda/function:Function', 'MatineeVolumeJanitorFunction');
    const boundary = one(d, 'aws:iam/policy:Policy', 'MatineePreviewVolumeBoundary');
    for (const id of ['MatineeReconcile', 'MatineeResync']) {
      const build = d.builds.find((b) => b.functionID === id);
      expect(build?.links[LINKS.settings]?.volumes).toEqual({
        fileSystemId: fs.id ?? fs.state.id,
        janitorFunction: janitor.state.name,
        roleBoundaryArn: boundary.state.arn,
      });
    }
  });
});

describe('an NFS client of a preview, as IAM decides it (file system policy, role policy, boundary)', () => {
  const point = (id: string) => `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT}:access-point/${id}`;
  const MINE = point('fsap-0000000000000000a');
  const THEIRS = point('fsap-0000000000000000b');
  const client = (action: string, accessPoint?: string) => ({
    action: `elasticfilesystem:${action}`,
    resource: one(d, 'aws:efs/fileSystem:FileSystem', 'MatineeVolumes').state.arn as string,
    context: {
      'aws:SecureTransport': 'true',
      ...(accessPoint ? { 'elasticfilesystem:AccessPointArn': accessPoint } : {}),
    },
  });
  const around = () => ({
    resourcePolicy: JSON.parse(ofType(d, 'aws:efs/fileSystemPolicy:FileSystemPolicy')[0]?.inputs.policy),
    boundary: JSON.parse(one(d, 'aws:iam/policy:Policy', 'MatineePreviewVolumeBoundary').inputs.policy),
  });
  const environmentRole = `arn:aws:iam::${ACCOUNT}:role/matinee/production/matinee-production-a-pr1-0123abcd`;
  /** Environment A's role, with the policy the control plane gives it (its one access point). */
  const asA = (
    action: string,
    accessPoint?: string,
    policy: unknown = volumeRolePolicy(client('x').resource, [MINE]),
  ) => decide(client(action, accessPoint), environmentRole, [{ name: 'own-volumes', policy }], around());

  it('lets an environment mount and write its own access point', async () => {
    expect(await asA('ClientMount', MINE)).toBe('Allowed');
    expect(await asA('ClientWrite', MINE)).toBe('Allowed');
  });

  it("refuses it another environment's access point, the janitor's, the bare file system, and root", async () => {
    const janitorPoint = one(d, 'aws:efs/accessPoint:AccessPoint', 'MatineeJanitorAccessPoint').state.arn;
    expect(await asA('ClientMount', THEIRS)).not.toBe('Allowed');
    expect(await asA('ClientWrite', THEIRS)).not.toBe('Allowed');
    expect(await asA('ClientMount', janitorPoint)).not.toBe('Allowed');
    expect(await asA('ClientMount')).not.toBe('Allowed');
    expect(await asA('ClientRootAccess', MINE)).not.toBe('Allowed');
  });

  it("holds even if a role's own policy were widened: the boundary keeps it off the janitor's access point and root", async () => {
    const wide = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'elasticfilesystem:*', Resource: '*' }],
    };
    const janitorPoint = one(d, 'aws:efs/accessPoint:AccessPoint', 'MatineeJanitorAccessPoint').state.arn;
    expect(await asA('ClientMount', janitorPoint, wide)).not.toBe('Allowed');
    expect(await asA('ClientRootAccess', MINE, wide)).not.toBe('Allowed');
    expect(await asA('ClientMount', undefined, wide)).not.toBe('Allowed');
  });

  it("gives the stage's shared task role (previews without volumes) no volume at all", async () => {
    const shared = one(d, 'aws:iam/role:Role', 'MatineePreviewTaskRole').state.arn;
    const { resourcePolicy } = around();
    expect(await decide(client('ClientMount', MINE), shared, [], { resourcePolicy })).not.toBe('Allowed');
  });

  it('lets the janitor in as root through its own access point, over TLS only', async () => {
    const janitorPoint = one(d, 'aws:efs/accessPoint:AccessPoint', 'MatineeJanitorAccessPoint').state.arn;
    const janitorRole = one(d, 'aws:iam/role:Role', 'MatineeVolumeJanitorRole').state.arn;
    const { resourcePolicy } = around();
    expect(await decide(client('ClientRootAccess', janitorPoint), janitorRole, [], { resourcePolicy })).toBe(
      'Allowed',
    );
    const plain = { ...client('ClientMount', janitorPoint), context: { 'aws:SecureTransport': 'false' } };
    expect(await decide(plain, janitorRole, [], { resourcePolicy })).not.toBe('Allowed');
  });
});
