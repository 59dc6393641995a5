import type { Network } from './network.ts';
import type { StageInput } from './settings.ts';

/** A DNS record the user creates by hand when Matinee was given no Route 53 zone. */
export interface DnsRecord {
  name: string;
  type: string;
  value: string;
  purpose: string;
}

export interface Edge {
  loadBalancer: aws.lb.LoadBalancer;
  /** HTTPS; awake previews get a host rule on it, everything else takes the default action: the wake function. */
  listener: aws.lb.Listener;
  wakeTargetGroup: aws.lb.TargetGroup;
  /** Only without a hosted zone: what to create in the DNS that holds the domain. */
  dnsRecords?: $util.Output<DnsRecord[]>;
}

/**
 * The shared ALB in front of every preview: a wildcard certificate for `*.<domain>` and `<domain>` validated by
 * DNS, HTTP redirected to HTTPS, and HTTPS whose default action is the wake function's target group (attached
 * by `attachWake` once the function exists). With a Route 53 zone, the validation and alias records are made
 * here; without one, they are returned for the user to create, and the deploy waits for the certificate.
 */
export function edge(input: StageInput, net: Network): Edge {
  const { domain } = input;
  const loadBalancer = new aws.lb.LoadBalancer('MatineeLoadBalancer', {
    loadBalancerType: 'application',
    // Internal: only private addresses, in the user's private subnets (stacks/settings.ts requires a VPC).
    internal: input.access.internal,
    securityGroups: [net.albSecurityGroupId],
    subnets: net.subnets,
    dropInvalidHeaderFields: true,
    // AWS's default, said here because the wake limits depend on it: the ALB appends the address that
    // connected to whatever X-Forwarded-For the client sent, so the last entry is the one to trust.
    xffHeaderProcessingMode: 'append',
    idleTimeout: 60,
    tags: { Name: `matinee-${input.stage}` },
  });

  const certificate = new aws.acm.Certificate('MatineeCertificate', {
    domainName: `*.${domain}`,
    subjectAlternativeNames: [domain],
    validationMethod: 'DNS',
  });
  // ACM gives `*.<domain>` and `<domain>` the same validation record: one record validates both names.
  const validationRecord = certificate.domainValidationOptions.apply((options) => {
    const first = options[0];
    if (!first) throw new Error('ACM returned no DNS validation record for the certificate');
    return {
      name: first.resourceRecordName,
      type: first.resourceRecordType,
      value: first.resourceRecordValue,
    };
  });

  const zoneId = input.hostedZone
    ? 'id' in input.hostedZone
      ? $util.output(input.hostedZone.id)
      : aws.route53.getZoneOutput({ name: input.hostedZone.name, privateZone: false }).zoneId
    : undefined;

  let validation: aws.acm.CertificateValidation;
  let dnsRecords: $util.Output<DnsRecord[]> | undefined;
  if (zoneId) {
    const record = new aws.route53.Record('MatineeCertificateValidation', {
      zoneId,
      name: validationRecord.name,
      type: validationRecord.type,
      records: [validationRecord.value],
      ttl: 300,
      allowOverwrite: true,
    });
    validation = new aws.acm.CertificateValidation('MatineeCertificateValidated', {
      certificateArn: certificate.arn,
      validationRecordFqdns: [record.fqdn],
    });
    for (const [name, host] of [
      ['MatineePreviewsAlias', `*.${domain}`],
      ['MatineeDashboardAlias', domain],
    ] as const) {
      new aws.route53.Record(name, {
        zoneId,
        name: host,
        type: 'A',
        aliases: [{ name: loadBalancer.dnsName, zoneId: loadBalancer.zoneId, evaluateTargetHealth: false }],
        allowOverwrite: true,
      });
    }
  } else {
    dnsRecords = $util.all([validationRecord, loadBalancer.dnsName]).apply(([record, dnsName]) => [
      { ...record, purpose: 'validates the certificate (the deploy waits until it resolves)' },
      { name: `*.${domain}`, type: 'CNAME', value: dnsName, purpose: 'every preview' },
      {
        name: domain,
        type: 'CNAME (ALIAS or ANAME if it is a zone apex)',
        value: dnsName,
        purpose: 'the dashboard and the waking pages',
      },
    ]);
    // Printed while the deploy waits for validation: the outputs only appear once the deploy is done.
    dnsRecords.apply((records) => {
      console.log(
        [
          `Matinee: no MATINEE_HOSTED_ZONE, so create these DNS records for ${domain}:`,
          ...records.map((r) => `  ${r.name}  ${r.type}  ${r.value}   (${r.purpose})`),
        ].join('\n'),
      );
    });
    validation = new aws.acm.CertificateValidation(
      'MatineeCertificateValidated',
      { certificateArn: certificate.arn },
      { customTimeouts: { create: '2h' } },
    );
  }

  // The wake function answers every host without a rule: sleeping previews and the dashboard.
  const wakeTargetGroup = new aws.lb.TargetGroup('MatineeWakeTarget', {
    targetType: 'lambda',
    lambdaMultiValueHeadersEnabled: false,
  });

  const listener = new aws.lb.Listener('MatineeHttps', {
    loadBalancerArn: loadBalancer.arn,
    port: 443,
    protocol: 'HTTPS',
    sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    certificateArn: validation.certificateArn,
    defaultActions: [{ type: 'forward', targetGroupArn: wakeTargetGroup.arn }],
  });
  new aws.lb.Listener('MatineeHttp', {
    loadBalancerArn: loadBalancer.arn,
    port: 80,
    protocol: 'HTTP',
    defaultActions: [
      { type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } },
    ],
  });

  return { loadBalancer, listener, wakeTargetGroup, dnsRecords };
}

/** Lets the ALB invoke the wake function and registers it as the default target group's only target. */
export function attachWake(edge: Edge, wake: sst.aws.Function) {
  const permission = new aws.lambda.Permission('MatineeWakeInvokedByAlb', {
    action: 'lambda:InvokeFunction',
    function: wake.arn,
    principal: 'elasticloadbalancing.amazonaws.com',
    sourceArn: edge.wakeTargetGroup.arn,
  });
  new aws.lb.TargetGroupAttachment(
    'MatineeWakeAttachment',
    { targetGroupArn: edge.wakeTargetGroup.arn, targetId: wake.arn },
    { dependsOn: [permission] },
  );
}
