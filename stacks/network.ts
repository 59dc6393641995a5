import { createHash } from 'node:crypto';
import type { EgressRule } from './preview-egress.ts';
import type { StageInput } from './settings.ts';

export interface Network {
  vpcId: $util.Output<string>;
  /**
   * The ALB's and every preview task's: public subnets (tasks get a public IP, so no NAT gateway is needed),
   * or, for an internal ALB, the user's private subnets (whose routes must reach the image registries).
   */
  subnets: $util.Output<string[]>;
  albSecurityGroupId: $util.Output<string>;
  /** Previews accept traffic from the ALB only. */
  taskSecurityGroupId: $util.Output<string>;
  assignPublicIp: boolean;
}

/**
 * The stage's network: a new VPC with public subnets in two zones and no NAT gateway (tasks get public IPs to
 * pull images), or the user's VPC and subnets (private ones for an internal ALB). Two security groups: the
 * ALB's, open on 80/443 to anyone or to MATINEE_ALLOW_CIDRS, and the tasks', open to the ALB's only.
 */
export function network(input: StageInput): Network {
  const { vpcId, subnets } = input.vpc
    ? { vpcId: $util.output(input.vpc.id), subnets: $util.output(input.vpc.subnetIds) }
    : (() => {
        // `nat` unset: no NAT gateway and no NAT instance.
        const vpc = new sst.aws.Vpc('MatineeVpc', { az: 2 });
        return { vpcId: vpc.id, subnets: vpc.publicSubnets.apply((ids) => $util.all(ids)) };
      })();

  const { allowCidrs, internal } = input.access;
  const alb = new aws.ec2.SecurityGroup('MatineeAlbSecurityGroup', {
    vpcId,
    // A changed description replaces the group, so setting or unsetting MATINEE_ALLOW_CIDRS does (new group
    // first, then the load balancer moves to it); changing the list only changes the rules.
    description: `Matinee ${input.stage}: the preview load balancer, HTTP and HTTPS from ${allowCidrs ? 'MATINEE_ALLOW_CIDRS' : 'anywhere'}`,
    tags: { Name: `matinee-${input.stage}-alb` },
  });
  const tasks = new aws.ec2.SecurityGroup('MatineeTaskSecurityGroup', {
    vpcId,
    description: `Matinee ${input.stage}: preview tasks, reachable from the load balancer only`,
    tags: { Name: `matinee-${input.stage}-previews` },
  });

  // The dashboard is on the same load balancer, so MATINEE_ALLOW_CIDRS covers it too (not the webhook's
  // Function URL: GitHub must reach that). The rules for anyone keep their old names, so a stage that sets no
  // list is unchanged.
  const sources = allowCidrs
    ? allowCidrs.map(({ family, cidr }) => ({
        family,
        cidr,
        suffix: `${family}-${cidr.replace(/[^0-9a-f]/gi, '-')}`,
      }))
    : [
        { family: 'V4', cidr: '0.0.0.0/0', suffix: 'V4' },
        { family: 'V6', cidr: '::/0', suffix: 'V6' },
      ];
  for (const port of [80, 443]) {
    for (const { family, cidr, suffix } of sources) {
      new aws.vpc.SecurityGroupIngressRule(`MatineeAlbIn${port}${suffix}`, {
        securityGroupId: alb.id,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        ...(family === 'V4' ? { cidrIpv4: cidr } : { cidrIpv6: cidr }),
      });
    }
  }
  // The app's port comes from each repository's .matinee.yml, so any TCP port, but only from the ALB.
  new aws.vpc.SecurityGroupEgressRule('MatineeAlbToTasks', {
    securityGroupId: alb.id,
    referencedSecurityGroupId: tasks.id,
    ipProtocol: 'tcp',
    fromPort: 0,
    toPort: 65535,
  });
  new aws.vpc.SecurityGroupIngressRule('MatineeTasksFromAlb', {
    securityGroupId: tasks.id,
    referencedSecurityGroupId: alb.id,
    ipProtocol: 'tcp',
    fromPort: 0,
    toPort: 65535,
  });
  previewEgress(input, tasks.id);

  return {
    vpcId,
    subnets,
    albSecurityGroupId: alb.id,
    taskSecurityGroupId: tasks.id,
    // In private subnets a public IP does nothing: the subnets' routes (NAT, VPC endpoints) reach the registries.
    assignPublicIp: !internal,
  };
}

/**
 * The tasks' way out: image pulls, logs and whatever the app calls. Everywhere (`all`), or one rule per
 * MATINEE_PREVIEW_EGRESS entry, named by a hash of the entry so reordering the list replaces nothing.
 */
function previewEgress(input: StageInput, securityGroupId: $util.Output<string>) {
  if (input.previewEgress === 'all') {
    new aws.vpc.SecurityGroupEgressRule('MatineeTasksOut', {
      securityGroupId,
      ipProtocol: '-1',
      cidrIpv4: '0.0.0.0/0',
    });
    return;
  }
  for (const rule of input.previewEgress)
    new aws.vpc.SecurityGroupEgressRule(egressName(rule), egressArgs(rule, securityGroupId));
}

const egressName = (rule: EgressRule) =>
  `MatineeTasksOut${createHash('sha256')
    .update(`${rule.cidr}|${rule.ports ? `${rule.ports.from}-${rule.ports.to}` : 'all'}`)
    .digest('hex')
    .slice(0, 10)}`;

function egressArgs(rule: EgressRule, securityGroupId: $util.Output<string>) {
  return {
    securityGroupId,
    description: `MATINEE_PREVIEW_EGRESS ${rule.entry}`,
    ...(rule.family === 'ipv4' ? { cidrIpv4: rule.cidr } : { cidrIpv6: rule.cidr }),
    ...(rule.ports
      ? { ipProtocol: 'tcp', fromPort: rule.ports.from, toPort: rule.ports.to }
      : { ipProtocol: '-1' }),
  };
}
