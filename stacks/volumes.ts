import { volumeRolePath } from '../packages/aws/src/iam-volume-roles.ts';
import { JANITOR_MOUNT } from '../packages/aws/src/volume-janitor.ts';
import { LAMBDA_BUNDLING } from './bundling.ts';
import type { AwsContext } from './cluster.ts';
import type { Statement } from './iam-statements.ts';
import type { Network } from './network.ts';
import { janitorPermissions, previewVolumeBoundary } from './permissions.ts';
import type { StageInput } from './settings.ts';

export interface StageVolumes {
  fileSystem: aws.efs.FileSystem;
  /** Deletes volume data (an access point's deletion keeps its files): packages/aws/src/volume-janitor.ts. */
  janitor: sst.aws.Function;
  /** What every environment's own role is made with, and cannot exceed (packages/aws/src/iam-volume-roles.ts). */
  roleBoundary: aws.iam.Policy;
}

/** The janitor's view of the file system: the stage's directory, as root (it deletes any volume's files). */
const JANITOR_OWNER = { uid: 0, gid: 0 };

/**
 * `.matinee.yml` volumes: one encrypted EFS file system for the stage, kept or removed with it as the table
 * is (kept for `production`), reachable on NFS (2049) from the preview tasks and from the janitor only, with
 * a mount target in each of the stage's subnets (one subnet per zone: EFS takes one mount target per zone).
 * Each environment volume is an access point the control plane makes (packages/aws/src/efs-volumes.ts), and
 * each environment with volumes runs as a role of its own that may mount only those (iam-volume-roles.ts).
 */
export function volumes(parts: { input: StageInput; context: AwsContext; net: Network }): StageVolumes {
  const { input, context, net } = parts;
  const retain = input.stage === 'production';
  const fileSystem = new aws.efs.FileSystem(
    'MatineeVolumes',
    {
      encrypted: true,
      // Elastic throughput: billed per use, nothing to provision for a handful of sleeping previews.
      throughputMode: 'elastic',
      tags: { Name: `matinee-${input.stage}-volumes`, 'matinee:stage': input.stage },
    },
    { retainOnDelete: retain },
  );

  const nfs = new aws.ec2.SecurityGroup('MatineeVolumesSecurityGroup', {
    vpcId: net.vpcId,
    description: `Matinee ${input.stage}: preview volumes (EFS), NFS from preview tasks and the janitor only`,
    tags: { Name: `matinee-${input.stage}-volumes` },
  });
  const janitorGroup = new aws.ec2.SecurityGroup('MatineeJanitorSecurityGroup', {
    vpcId: net.vpcId,
    description: `Matinee ${input.stage}: the volume janitor, which reaches the volumes and nothing else`,
    tags: { Name: `matinee-${input.stage}-janitor` },
  });
  const clients = [
    ['Tasks', net.taskSecurityGroupId],
    ['Janitor', janitorGroup.id],
  ] as const;
  for (const [who, group] of clients) {
    new aws.vpc.SecurityGroupIngressRule(`MatineeVolumesFrom${who}`, {
      securityGroupId: nfs.id,
      referencedSecurityGroupId: group,
      description: `NFS from ${who.toLowerCase()}`,
      ipProtocol: 'tcp',
      fromPort: 2049,
      toPort: 2049,
    });
    // Whatever MATINEE_PREVIEW_EGRESS allows, a preview reaches its volumes.
    new aws.vpc.SecurityGroupEgressRule(`Matinee${who}ToVolumes`, {
      securityGroupId: group,
      referencedSecurityGroupId: nfs.id,
      description: 'NFS to the volumes',
      ipProtocol: 'tcp',
      fromPort: 2049,
      toPort: 2049,
    });
  }

  const mountTargets = $util.output(net.subnets).apply((subnets) =>
    subnets.map(
      (subnetId, index) =>
        new aws.efs.MountTarget(`MatineeVolumesMount${index}`, {
          fileSystemId: fileSystem.id,
          subnetId,
          securityGroups: [nfs.id],
        }),
    ),
  );

  // The janitor's access point: `/<stage>`, under which every volume of the stage lives.
  const janitorPoint = new aws.efs.AccessPoint('MatineeJanitorAccessPoint', {
    fileSystemId: fileSystem.id,
    posixUser: JANITOR_OWNER,
    rootDirectory: {
      path: `/${input.stage}`,
      creationInfo: { ownerUid: JANITOR_OWNER.uid, ownerGid: JANITOR_OWNER.gid, permissions: '0755' },
    },
    tags: { Name: `matinee-${input.stage}-janitor`, 'matinee:stage': input.stage },
  });

  const janitor = new sst.aws.Function(
    'MatineeVolumeJanitor',
    {
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      memory: '512 MB',
      logging: { retention: '1 month' },
      nodejs: LAMBDA_BUNDLING,
      description: "Deletes preview volumes' data: called by reconcile and resync, waited for",
      handler: 'functions/volume-janitor.handler',
      // A volume of many small files takes a while to delete over NFS; a timed-out call is started again.
      timeout: '15 minutes',
      vpc: { privateSubnets: net.subnets, securityGroups: [janitorGroup.id] },
      volume: { efs: janitorPoint.arn, path: JANITOR_MOUNT },
      permissions: $resolve({
        partition: context.partition,
        region: context.region,
        account: context.account,
        fileSystemArn: fileSystem.arn,
        accessPointArn: janitorPoint.arn,
      }).apply(janitorPermissions),
    },
    // Lambda mounts the file system when the function is created: the mount targets must exist first.
    { dependsOn: mountTargets.apply((targets) => targets) as unknown as $util.Input<$util.Resource[]> },
  );

  // The previews mount their volumes through their access points, as the volumes' owners (never root), each
  // environment as a role of its own whose policy names its access points (the control plane makes it). The
  // boundary every such role is made with holds it to that whatever its policy says, and keeps it off the
  // janitor's access point; the stage's shared task role gets nothing on the file system.
  const roleBoundary = new aws.iam.Policy('MatineePreviewVolumeBoundary', {
    name: `matinee-${input.stage}-preview-volumes`,
    path: volumeRolePath(input.stage),
    description: `Matinee ${input.stage}: the most a preview environment's own role may do (mount volumes through access points)`,
    policy: $resolve({
      partition: context.partition,
      region: context.region,
      account: context.account,
      fileSystemArn: fileSystem.arn,
      janitorAccessPointArn: janitorPoint.arn,
    }).apply((r) => policyJson(previewVolumeBoundary(r))),
    tags: { 'matinee:stage': input.stage },
  });

  // Without a file system policy EFS lets every NFS client that reaches a mount target in as root, IAM or
  // not: a preview's code speaking NFS from user space would read and delete every volume of the stage. The
  // policy allows only the janitor, through its own access point, over TLS. It grants the previews nothing:
  // an allow here would admit its principal through whichever access point it names (EFS lets an allow in
  // either the file system's or the caller's policy suffice, and honours no principal condition keys for
  // NFS clients), so each environment's own role is granted its own access points by its own policy alone.
  new aws.efs.FileSystemPolicy('MatineeVolumesPolicy', {
    fileSystemId: fileSystem.id,
    policy: $resolve({
      fileSystemArn: fileSystem.arn,
      janitorRoleArn: janitor.nodes.role.arn,
      janitorPointArn: janitorPoint.arn,
    }).apply((r) => JSON.stringify(volumesPolicy(r))),
  });

  return { fileSystem, janitor, roleBoundary };
}

/** The file system's own policy (see where it is made). */
export function volumesPolicy(r: { fileSystemArn: string; janitorRoleArn: string; janitorPointArn: string }) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'TlsOnly',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: '*',
        Resource: r.fileSystemArn,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      {
        Sid: 'JanitorThroughItsAccessPoint',
        Effect: 'Allow',
        Principal: { AWS: r.janitorRoleArn },
        Action: [
          'elasticfilesystem:ClientMount',
          'elasticfilesystem:ClientWrite',
          'elasticfilesystem:ClientRootAccess',
        ],
        Resource: r.fileSystemArn,
        Condition: { StringEquals: { 'elasticfilesystem:AccessPointArn': r.janitorPointArn } },
      },
    ],
  };
}

/** IAM JSON for `statements` (what sst.aws.Function renders from `permissions`, for a plain role policy). */
function policyJson(statements: Statement[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: statements.map((s) => ({
      Effect: 'Allow',
      Action: s.actions,
      Resource: s.resources,
      ...(s.conditions?.length
        ? {
            Condition: s.conditions.reduce<Record<string, Record<string, string[]>>>((all, c) => {
              all[c.test] = { ...all[c.test], [c.variable]: c.values };
              return all;
            }, {}),
          }
        : {}),
    })),
  });
}
