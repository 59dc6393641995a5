import { beforeAll, describe, expect, it } from 'vitest';
import { LINKS } from '../../functions/lib/settings.ts';
import { JANITOR_MOUNT } from '../../packages/aws/src/volume-janitor.ts';
import { janitorPermissions, previewVolumePermissions } from '../../stacks/permissions.ts';
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

  it('let preview tasks mount and write through an access point only, never as root', () => {
    const fs = one(d, 'aws:efs/fileSystem:FileSystem', 'MatineeVolumes');
    const taskRole = one(d, 'aws:iam/role:Role', 'MatineePreviewTaskRole');
    const attached = ofType(d, 'aws:iam/rolePolicy:RolePolicy').filter((p) => p.inputs.role === taskRole.id);
    expect(attached).toHaveLength(1);
    const document = JSON.parse(attached[0]?.inputs.policy);
    const expected = previewVolumePermissions({
      partition: 'aws',
      region: REGION,
      account: ACCOUNT,
      fileSystemArn: fs.state.arn,
    });
    expect(document.Statement).toEqual(asIam(expected));
    expect(JSON.stringify(document)).not.toContain('ClientRootAccess');
    expect(document.Statement[0].Condition.StringLike['elasticfilesystem:AccessPointArn']).toEqual([
      `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT}:access-point/fsap-*`,
    ]);
  });

  it('admit no NFS client without IAM: only the previews through their access points and the janitor through its own, over TLS', () => {
    const fs = one(d, 'aws:efs/fileSystem:FileSystem', 'MatineeVolumes');
    const policies = ofType(d, 'aws:efs/fileSystemPolicy:FileSystemPolicy');
    expect(policies).toHaveLength(1);
    expect(policies[0]?.inputs.fileSystemId).toBe(fs.id);
    const document = JSON.parse(policies[0]?.inputs.policy);
    const janitorPoint = one(d, 'aws:efs/accessPoint:AccessPoint', 'MatineeJanitorAccessPoint');
    const [tls, previews, janitor] = document.Statement;
    expect(tls).toMatchObject({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(previews.Principal.AWS).toBe(one(d, 'aws:iam/role:Role', 'MatineePreviewTaskRole').state.arn);
    expect(previews.Action).not.toContain('elasticfilesystem:ClientRootAccess');
    expect(previews.Condition.StringNotEquals['elasticfilesystem:AccessPointArn']).toBe(
      janitorPoint.state.arn,
    );
    expect(janitor.Condition.StringEquals['elasticfilesystem:AccessPointArn']).toBe(janitorPoint.state.arn);
    expect(JSON.stringify(document)).not.toMatch(
      /"AWS":"\*"[^}]*"Allow"|"Effect":"Allow","Principal":\{"AWS":"\*"/,
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

  it("tell reconcile and resync the file system and the janitor, through the stage's settings", () => {
    const fs = one(d, 'aws:efs/fileSystem:FileSystem', 'MatineeVolumes');
    const janitor = one(d, 'aws:lambda/function:Function', 'MatineeVolumeJanitorFunction');
    for (const id of ['MatineeReconcile', 'MatineeResync']) {
      const build = d.builds.find((b) => b.functionID === id);
      expect(build?.links[LINKS.settings]?.volumes).toEqual({
        fileSystemId: fs.id ?? fs.state.id,
        janitorFunction: janitor.state.name,
      });
    }
  });
});
