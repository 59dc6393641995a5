import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_PRICES, DEFAULT_WAKE_LIMITS } from '@matinee/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { LINKS, readSettings, stageSettingsSchema } from '../../functions/lib/settings.ts';
import { MATINEE_EVENT_SOURCE, RECONCILE_REQUESTED } from '../../packages/aws/src/reconcile-requested.ts';
import { TABLE, tableDefinition } from '../../packages/aws/src/table.ts';
import type { Statement } from '../../stacks/iam-statements.ts';
import { FUNCTION_NAMES, type FunctionName, functionPermissions } from '../../stacks/permissions.ts';
import { COMPONENT, deployedResources } from './deployed-stage.ts';
import {
  ACCOUNT,
  type Deployment,
  deploy,
  linkables,
  ofType,
  one,
  platformInstalled,
  policies,
  REGION,
  type Registered,
  ROOT,
  sstEnv,
} from './sst-harness.ts';

/**
 * The real sst.config.ts, run for stage `production` under Pulumi's mocks (see sst-harness.ts): a new VPC, a
 * Route 53 zone given by name, every other setting at its default.
 */
const DOMAIN = 'preview.example.com';

let d: Deployment;

beforeAll(async () => {
  if (!platformInstalled())
    throw new Error(
      'SST platform missing: run `npm run sst:install` (offline, ~40 s) before the infra tests',
    );
  d = await deploy({
    stage: 'production',
    env: { MATINEE_DOMAIN: DOMAIN, MATINEE_HOSTED_ZONE: 'example.com' },
    secrets: { GithubWebhookSecret: 'webhook-secret', GithubToken: 'github_pat_test' },
  });
}, 120_000);

const state = (type: string, name: string) => one(d, type, name).state;
const fnArn = (name: FunctionName) => state('aws:lambda/function:Function', `${COMPONENT[name]}Function`).arn;
const iamStatements = (role: Registered) =>
  (role.inputs.inlinePolicies ?? []).flatMap(
    (policy: { policy: string }) => JSON.parse(policy.policy).Statement,
  );

describe('the table', () => {
  const table = () => state('aws:dynamodb/table:Table', 'MatineeTableTable');
  const definition = tableDefinition('any');

  it('has the keys, attributes and billing of packages/aws/src/table.ts', () => {
    expect(table().hashKey).toBe(TABLE.partitionKey);
    expect(table().rangeKey).toBe(TABLE.sortKey);
    expect(table().billingMode).toBe('PAY_PER_REQUEST');
    expect(table().billingMode).toBe(definition.BillingMode);
    const attributes = (table().attributes as { name: string; type: string }[]).map((a) => ({
      AttributeName: a.name,
      AttributeType: a.type,
    }));
    expect(attributes).toEqual(expect.arrayContaining(definition.AttributeDefinitions ?? []));
    expect(attributes).toHaveLength(definition.AttributeDefinitions?.length ?? 0);
  });

  it('has the sparse awake index, TTL and point-in-time recovery', () => {
    const [index, ...others] = table().globalSecondaryIndexes;
    expect(others).toEqual([]);
    const wanted = definition.GlobalSecondaryIndexes?.[0];
    expect(index).toMatchObject({
      name: wanted?.IndexName,
      hashKey: wanted?.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName,
      rangeKey: wanted?.KeySchema?.find((k) => k.KeyType === 'RANGE')?.AttributeName,
      projectionType: wanted?.Projection?.ProjectionType,
    });
    expect(table().ttl).toEqual({ attributeName: TABLE.ttlAttribute, enabled: true });
    expect(table().pointInTimeRecovery).toEqual({ enabled: true });
    expect(table().deletionProtectionEnabled).toBe(true);
  });
});

describe('schedules', () => {
  it('runs the sweep every 5 minutes and the resync every hour by default', () => {
    const rule = (name: string) => state('aws:cloudwatch/eventRule:EventRule', name);
    expect(rule('MatineeSweepScheduleRule').scheduleExpression).toBe('rate(5 minutes)');
    expect(rule('MatineeResyncScheduleRule').scheduleExpression).toBe('rate(1 hour)');
    expect(state('aws:cloudwatch/eventTarget:EventTarget', 'MatineeSweepScheduleTarget').arn).toBe(
      fnArn('sweep'),
    );
    expect(state('aws:cloudwatch/eventTarget:EventTarget', 'MatineeResyncScheduleTarget').arn).toBe(
      fnArn('resync'),
    );
  });
});

describe('the load balancer', () => {
  it('sends every host without a rule to the wake function', () => {
    const https = state('aws:lb/listener:Listener', 'MatineeHttps');
    const wakeTarget = state('aws:lb/targetGroup:TargetGroup', 'MatineeWakeTarget');
    expect(https).toMatchObject({ port: 443, protocol: 'HTTPS' });
    expect(https.defaultActions).toEqual([
      expect.objectContaining({ type: 'forward', targetGroupArn: wakeTarget.arn }),
    ]);
    expect(wakeTarget).toMatchObject({ targetType: 'lambda', lambdaMultiValueHeadersEnabled: false });
    expect(
      state('aws:lb/targetGroupAttachment:TargetGroupAttachment', 'MatineeWakeAttachment'),
    ).toMatchObject({
      targetGroupArn: wakeTarget.arn,
      targetId: fnArn('wake'),
    });
    expect(state('aws:lambda/permission:Permission', 'MatineeWakeInvokedByAlb')).toMatchObject({
      action: 'lambda:InvokeFunction',
      function: fnArn('wake'),
      principal: 'elasticloadbalancing.amazonaws.com',
      sourceArn: wakeTarget.arn,
    });
  });

  it('serves a wildcard certificate validated in the zone, and redirects HTTP to HTTPS', () => {
    const certificate = state('aws:acm/certificate:Certificate', 'MatineeCertificate');
    expect(certificate).toMatchObject({
      domainName: `*.${DOMAIN}`,
      subjectAlternativeNames: [DOMAIN],
      validationMethod: 'DNS',
    });
    const validation = state(
      'aws:acm/certificateValidation:CertificateValidation',
      'MatineeCertificateValidated',
    );
    const record = state('aws:route53/record:Record', 'MatineeCertificateValidation');
    expect(validation.validationRecordFqdns).toEqual([record.fqdn]);
    expect(record).toMatchObject({ zoneId: 'ZMATINEEZONE', type: 'CNAME' });
    expect(state('aws:lb/listener:Listener', 'MatineeHttps').certificateArn).toBe(certificate.arn);
    expect(state('aws:lb/listener:Listener', 'MatineeHttp')).toMatchObject({
      port: 80,
      protocol: 'HTTP',
      defaultActions: [
        expect.objectContaining({
          type: 'redirect',
          redirect: expect.objectContaining({ protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' }),
        }),
      ],
    });
  });

  it('appends the connecting address to X-Forwarded-For, which the wake limits trust', () => {
    expect(state('aws:lb/loadBalancer:LoadBalancer', 'MatineeLoadBalancer')).toMatchObject({
      xffHeaderProcessingMode: 'append',
      dropInvalidHeaderFields: true,
    });
  });

  it('points the domain and every preview host at the load balancer', () => {
    const alb = state('aws:lb/loadBalancer:LoadBalancer', 'MatineeLoadBalancer');
    const aliases = ofType(d, 'aws:route53/record:Record')
      .filter((r) => r.inputs.type === 'A')
      .map((r) => ({ name: r.inputs.name, zoneId: r.inputs.zoneId, target: r.inputs.aliases?.[0]?.name }));
    expect(aliases).toEqual(
      expect.arrayContaining([
        { name: `*.${DOMAIN}`, zoneId: 'ZMATINEEZONE', target: alb.dnsName },
        { name: DOMAIN, zoneId: 'ZMATINEEZONE', target: alb.dnsName },
      ]),
    );
    expect(
      d.calls.filter((c) => c.token === 'aws:route53/getZone:getZone').map((c) => c.inputs.name),
    ).toEqual(['example.com']);
  });
});

describe('events', () => {
  const pattern = (name: string) =>
    JSON.parse(state('aws:cloudwatch/eventRule:EventRule', name).eventPattern);
  const deadLetterArn = () => state('aws:sqs/queue:Queue', 'MatineeDeadLetters').arn;

  it("sends only stopped tasks of this stage's cluster to task-events", () => {
    const rule = state('aws:cloudwatch/eventRule:EventRule', 'MatineeTaskStateChanged');
    expect(rule.eventBusName).toBeUndefined();
    expect(pattern('MatineeTaskStateChanged')).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Task State Change'],
      detail: {
        clusterArn: [state('aws:ecs/cluster:Cluster', 'MatineeCluster').arn],
        lastStatus: ['STOPPED'],
      },
    });
    expect(state('aws:cloudwatch/eventTarget:EventTarget', 'MatineeTaskEventsTarget')).toMatchObject({
      rule: rule.name,
      arn: fnArn('task-events'),
      deadLetterConfig: { arn: deadLetterArn() },
    });
  });

  it("sends this cluster's SERVICE_STEADY_STATE to task-events: targets are healthy, the rule can go on", () => {
    const rule = state('aws:cloudwatch/eventRule:EventRule', 'MatineeServiceSteady');
    expect(rule.eventBusName).toBeUndefined();
    expect(pattern('MatineeServiceSteady')).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Service Action'],
      detail: {
        clusterArn: [state('aws:ecs/cluster:Cluster', 'MatineeCluster').arn],
        eventName: ['SERVICE_STEADY_STATE', 'SERVICE_TASK_PLACEMENT_FAILURE'],
      },
    });
    expect(state('aws:cloudwatch/eventTarget:EventTarget', 'MatineeServiceSteadyTarget')).toMatchObject({
      rule: rule.name,
      arn: fnArn('task-events'),
      deadLetterConfig: { arn: deadLetterArn() },
    });
  });

  it('sends reconcile requests on MatineeBus to reconcile', () => {
    const bus = state('aws:cloudwatch/eventBus:EventBus', 'MatineeBusBus');
    const rule = state('aws:cloudwatch/eventRule:EventRule', 'MatineeReconcileRequested');
    expect(rule.eventBusName).toBe(bus.name);
    expect(pattern('MatineeReconcileRequested')).toEqual({
      source: [MATINEE_EVENT_SOURCE],
      'detail-type': [RECONCILE_REQUESTED],
    });
    expect(state('aws:cloudwatch/eventTarget:EventTarget', 'MatineeReconcileTarget')).toMatchObject({
      rule: rule.name,
      eventBusName: bus.name,
      arn: fnArn('reconcile'),
      deadLetterConfig: { arn: deadLetterArn() },
    });
  });

  it('keeps what the event-driven functions failed in the dead-letter queue', () => {
    for (const name of ['MatineeReconcile', 'MatineeTaskEvents']) {
      expect(
        state('aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig', `${name}EventInvokeConfig`),
      ).toMatchObject({
        maximumRetryAttempts: 2,
        destinationConfig: { onFailure: { destination: deadLetterArn() } },
      });
    }
    const [statement, ...others] = JSON.parse(
      state('aws:sqs/queuePolicy:QueuePolicy', 'MatineeDeadLettersFromRules').policy,
    ).Statement;
    expect(others).toEqual([]);
    expect(statement).toMatchObject({
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Principal: { Service: 'events.amazonaws.com' },
      Resource: [deadLetterArn()],
    });
    expect(statement.Condition.ArnEquals['aws:SourceArn']).toEqual([
      state('aws:cloudwatch/eventRule:EventRule', 'MatineeReconcileRequested').arn,
      state('aws:cloudwatch/eventRule:EventRule', 'MatineeTaskStateChanged').arn,
      state('aws:cloudwatch/eventRule:EventRule', 'MatineeServiceSteady').arn,
      state('aws:cloudwatch/eventRule:EventRule', 'MatineeBuildStateChanged').arn,
    ]);
  });
});

describe('the cluster', () => {
  it('offers FARGATE and FARGATE_SPOT', () => {
    expect(
      state('aws:ecs/clusterCapacityProviders:ClusterCapacityProviders', 'MatineeCapacityProviders'),
    ).toMatchObject({
      clusterName: state('aws:ecs/cluster:Cluster', 'MatineeCluster').name,
      capacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    });
  });

  it('keeps preview logs 14 days', () => {
    expect(state('aws:cloudwatch/logGroup:LogGroup', 'MatineePreviewLogs')).toMatchObject({
      name: '/matinee/production/previews',
      retentionInDays: 14,
    });
  });

  it('gives previews a role without permissions, and ECS one that pulls images and writes their logs', () => {
    expect(one(d, 'aws:iam/role:Role', 'MatineePreviewTaskRole').inputs.inlinePolicies).toBeUndefined();
    expect(one(d, 'aws:iam/role:Role', 'MatineePreviewTaskRole').inputs.managedPolicyArns).toBeUndefined();
    const logGroup = state('aws:cloudwatch/logGroup:LogGroup', 'MatineePreviewLogs').arn;
    expect(iamStatements(one(d, 'aws:iam/role:Role', 'MatineeTaskExecutionRole'))).toEqual([
      { Effect: 'Allow', Action: ['ecr:GetAuthorizationToken'], Resource: ['*'] },
      {
        Effect: 'Allow',
        Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        // The stage's own repositories only: MATINEE_ECR_REPOSITORIES is unset.
        Resource: [
          `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/matinee-production`,
          `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/matinee-production/*`,
        ],
      },
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: [logGroup, `${logGroup}:*`],
      },
    ]);
    for (const role of ['MatineePreviewTaskRole', 'MatineeTaskExecutionRole']) {
      expect(JSON.parse(one(d, 'aws:iam/role:Role', role).inputs.assumeRolePolicy).Statement).toEqual([
        { Effect: 'Allow', Action: ['sts:AssumeRole'], Principal: { Service: 'ecs-tasks.amazonaws.com' } },
      ]);
    }
  });
});

describe('the network', () => {
  it('has public subnets and no NAT', () => {
    expect(one(d, 'sst:aws:Vpc', 'MatineeVpc')).toBeDefined();
    expect(ofType(d, 'aws:ec2/natGateway:NatGateway')).toEqual([]);
    expect(ofType(d, 'aws:ec2/instance:Instance')).toEqual([]);
    const publicSubnets = ofType(d, 'aws:ec2/subnet:Subnet').filter((s) => s.inputs.mapPublicIpOnLaunch);
    expect(publicSubnets).toHaveLength(2);
  });

  it('lets only the load balancer reach the tasks', () => {
    const alb = one(d, 'aws:ec2/securityGroup:SecurityGroup', 'MatineeAlbSecurityGroup');
    const tasks = one(d, 'aws:ec2/securityGroup:SecurityGroup', 'MatineeTaskSecurityGroup');
    const vpc = one(d, 'aws:ec2/vpc:Vpc', 'MatineeVpcVpc');
    expect(alb.inputs.vpcId).toBe(vpc.id);
    expect(tasks.inputs.vpcId).toBe(vpc.id);
    expect(alb.inputs.ingress ?? []).toEqual([]);
    expect(tasks.inputs.ingress ?? []).toEqual([]);
    const ingress = ofType(d, 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule').map(
      (r) => r.inputs,
    );
    expect(ingress.filter((rule) => rule.securityGroupId === tasks.id)).toEqual([
      expect.objectContaining({
        referencedSecurityGroupId: alb.id,
        ipProtocol: 'tcp',
        fromPort: 0,
        toPort: 65535,
      }),
    ]);
    const intoAlb = ingress.filter((rule) => rule.securityGroupId === alb.id);
    expect(intoAlb.every((rule) => rule.fromPort === rule.toPort && [80, 443].includes(rule.fromPort))).toBe(
      true,
    );
    expect(intoAlb).toHaveLength(4);
    // From anywhere unless MATINEE_ALLOW_CIDRS says otherwise (test/infra/stacks-private.test.ts).
    expect(intoAlb.map((rule) => rule.cidrIpv4 ?? rule.cidrIpv6).sort()).toEqual([
      '0.0.0.0/0',
      '0.0.0.0/0',
      '::/0',
      '::/0',
    ]);
    expect(state('aws:lb/loadBalancer:LoadBalancer', 'MatineeLoadBalancer').internal).toBe(false);
    // And NFS into the volumes' group, from the tasks and the janitor (see 'the volumes').
    expect(ingress).toHaveLength(7);
    const egress = ofType(d, 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule').map((r) => r.inputs);
    expect(egress.filter((rule) => rule.securityGroupId === alb.id)).toEqual([
      expect.objectContaining({ referencedSecurityGroupId: tasks.id }),
    ]);
  });

  it('lets the tasks connect anywhere unless MATINEE_PREVIEW_EGRESS says otherwise', () => {
    const tasks = one(d, 'aws:ec2/securityGroup:SecurityGroup', 'MatineeTaskSecurityGroup');
    expect(tasks.inputs.egress ?? []).toEqual([]);
    const egress = ofType(d, 'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule').map((r) => r.inputs);
    const nfs = one(d, 'aws:ec2/securityGroup:SecurityGroup', 'MatineeVolumesSecurityGroup');
    expect(egress.filter((rule) => rule.securityGroupId === tasks.id)).toEqual([
      { securityGroupId: tasks.id, ipProtocol: '-1', cidrIpv4: '0.0.0.0/0' },
      // Their volumes, whatever MATINEE_PREVIEW_EGRESS says.
      {
        securityGroupId: tasks.id,
        referencedSecurityGroupId: nfs.id,
        description: 'NFS to the volumes',
        ipProtocol: 'tcp',
        fromPort: 2049,
        toPort: 2049,
      },
    ]);
  });
});

describe('the functions', () => {
  it('run the handlers in functions/ on Node.js 22 on arm64', () => {
    expect(d.builds.map((b) => b.handler).sort()).toEqual(
      [...FUNCTION_NAMES, 'volume-janitor'].map((n) => `functions/${n}.handler`).sort(),
    );
    for (const build of d.builds) {
      expect(build).toMatchObject({ runtime: 'nodejs22.x', architecture: 'arm64' });
      // The plugins bench/bundles.ts measures with (environment credentials only: functions/lib/bundle-plugins.mjs).
      expect(build.plugins).toBe('functions/lib/bundle-plugins.mjs');
      expect(existsSync(path.join(ROOT, build.plugins ?? ''))).toBe(true);
      const file = path.join(ROOT, build.handler.replace(/\.handler$/, '.ts'));
      expect(existsSync(file), file).toBe(true);
      expect(readFileSync(file, 'utf8')).toMatch(
        /export (const handler\b|async function handler\b|function handler\b)/,
      );
    }
    for (const fn of ofType(d, 'aws:lambda/function:Function')) {
      expect(fn.inputs).toMatchObject({ runtime: 'nodejs22.x', architectures: ['arm64'] });
    }
  });

  it('are linked to exactly what each reads', () => {
    const github = [LINKS.githubAppId, LINKS.githubPrivateKey, LINKS.githubToken];
    const base = [LINKS.table, LINKS.bus, LINKS.settings];
    const expected: Record<FunctionName, string[]> = {
      'github-webhook': [...base, ...github, LINKS.webhookSecret],
      wake: [...base, LINKS.dashboardPassword, LINKS.githubClientId, LINKS.githubClientSecret],
      reconcile: [...base, ...github],
      'task-events': base,
      sweep: base,
      resync: [...base, ...github],
    };
    for (const name of FUNCTION_NAMES) {
      const build = d.builds.find((b) => b.functionID === COMPONENT[name]);
      expect(Object.keys(build?.links ?? {}).sort(), name).toEqual([...expected[name]].sort());
    }
  });

  it('get stage settings that satisfy the contract in functions/lib/settings.ts', () => {
    // The janitor reads nothing but its event: it is linked to nothing (see 'the volumes').
    for (const build of d.builds.filter((b) => b.functionID !== 'MatineeVolumeJanitor')) {
      const linked = build.links[LINKS.settings];
      expect(stageSettingsSchema.parse(linked)).toMatchObject({
        stage: 'production',
        domain: DOMAIN,
        region: REGION,
        maxAwake: 90,
        prices: DEFAULT_PRICES,
        network: { assignPublicIp: true },
        // Previews on AWS need their link unless the stage says otherwise.
        access: { mode: 'link' },
      });
      expect(linked?.defaults).toEqual({ cpu: 256, memory: 512, idleSeconds: 3600 });
      expect(linked?.limits).toEqual(DEFAULT_WAKE_LIMITS);
      const settings = readSettings(build.links, {
        github: LINKS.githubToken in build.links,
        webhookSecret: LINKS.webhookSecret in build.links,
        dashboardPassword: LINKS.dashboardPassword in build.links,
      });
      expect(settings.tableName).toBe(state('aws:dynamodb/table:Table', 'MatineeTableTable').name);
      expect(settings.busName).toBe(state('aws:cloudwatch/eventBus:EventBus', 'MatineeBusBus').name);
      expect(settings.stage.cluster.arn).toBe(state('aws:ecs/cluster:Cluster', 'MatineeCluster').arn);
      expect(settings.stage.loadBalancer).toEqual({
        fullName: state('aws:lb/loadBalancer:LoadBalancer', 'MatineeLoadBalancer').arnSuffix,
        listenerArn: state('aws:lb/listener:Listener', 'MatineeHttps').arn,
      });
      expect(settings.stage.network.securityGroups).toEqual([
        one(d, 'aws:ec2/securityGroup:SecurityGroup', 'MatineeTaskSecurityGroup').id,
      ]);
      expect(settings.stage.network.subnets).toEqual(
        ofType(d, 'aws:ec2/subnet:Subnet')
          .filter((s) => s.inputs.mapPublicIpOnLaunch)
          .map((s) => s.id),
      );
    }
  });

  it('take webhooks on a public Function URL (GitHub signs them)', () => {
    const url = state('aws:lambda/functionUrl:FunctionUrl', 'MatineeWebhookUrl');
    expect(url.authorizationType).toBe('NONE');
    expect(d.outputs.webhookUrl).toBe(url.functionUrl);
  });
});

describe('IAM', () => {
  const documents = () => policies(d);

  it('never allows an action with a wildcard', () => {
    expect(documents().length).toBeGreaterThan(8);
    for (const { resource, kind, document } of documents()) {
      // A Deny may be broad (the source bucket refuses `s3:*` without TLS); what is allowed may not.
      for (const statement of document.Statement.filter((s: { Effect: string }) => s.Effect !== 'Deny')) {
        const actions = [statement.Action ?? []].flat() as string[];
        expect(
          actions.filter((action) => action.includes('*')),
          `${resource} ${kind}`,
        ).toEqual([]);
        expect(statement.NotAction, `${resource} ${kind}`).toBeUndefined();
      }
    }
  });

  it('gives each function role exactly the statements of stacks/permissions.ts', () => {
    const expected = functionPermissions(deployedResources(d, 'production'));
    const asIam = (s: Statement) => ({
      Effect: 'Allow',
      Action: s.actions,
      Resource: s.resources,
      ...(s.conditions
        ? {
            Condition: Object.fromEntries(
              [...new Set(s.conditions.map((c) => c.test))].map((test) => [
                test,
                Object.fromEntries(
                  s.conditions?.filter((c) => c.test === test).map((c) => [c.variable, c.values]) ?? [],
                ),
              ]),
            ),
          }
        : {}),
    });
    for (const name of FUNCTION_NAMES) {
      const role = one(d, 'aws:iam/role:Role', `${COMPONENT[name]}Role`);
      expect(iamStatements(role), name).toEqual(expected[name].map(asIam));
      expect(role.inputs.managedPolicyArns, name).toEqual([
        'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
      ]);
    }
  });

  it('lets only reconcile and resync touch ECS and the ALB, and only reconcile pass the preview roles', () => {
    const passRoles = documents().flatMap(({ resource, document }) =>
      (document.Statement as { Action?: string[]; Resource?: string[]; Condition?: unknown }[])
        .filter((s) => s.Action?.includes('iam:PassRole'))
        .map((s) => ({ resource, statement: s })),
    );
    expect(passRoles.map((p) => p.resource)).toEqual(['MatineeReconcileRole', 'MatineeReconcileRole']);
    for (const { statement } of passRoles) {
      expect(statement.Action).toEqual(['iam:PassRole']);
      expect(statement.Condition).toEqual({
        StringEquals: { 'iam:PassedToService': ['ecs-tasks.amazonaws.com'] },
      });
    }
    // The stage's two roles, and the environments' own under the stage's path (stacks/volumes.ts).
    expect(passRoles.map((p) => p.statement.Resource)).toEqual([
      [
        state('aws:iam/role:Role', 'MatineeTaskExecutionRole').arn,
        state('aws:iam/role:Role', 'MatineePreviewTaskRole').arn,
      ],
      [`arn:aws:iam::${ACCOUNT}:role/matinee/production/*`],
    ]);
    for (const name of FUNCTION_NAMES) {
      const actions = iamStatements(one(d, 'aws:iam/role:Role', `${COMPONENT[name]}Role`)).flatMap(
        (s: { Action: string[] }) => s.Action,
      );
      const cloud = actions.filter(
        (a: string) => a.startsWith('ecs:') || a.startsWith('elasticloadbalancing:'),
      );
      expect(cloud.length > 0, name).toBe(name === 'reconcile' || name === 'resync');
    }
  });
});

describe('outputs', () => {
  it('name the webhook URL, the preview domain, the dashboard and the load balancer', () => {
    expect(d.outputs).toMatchObject({
      previewDomain: DOMAIN,
      dashboardUrl: `https://${DOMAIN}/`,
      albDnsName: state('aws:lb/loadBalancer:LoadBalancer', 'MatineeLoadBalancer').dnsName,
    });
    expect(d.outputs.webhookUrl).toMatch(/^https:\/\/.+\.lambda-url\./);
    // With a hosted zone there is nothing to create by hand.
    expect(d.outputs.dnsRecords).toBeUndefined();
  });
});

describe('sst-env.d.ts', () => {
  it('types every link as `sst deploy` would write it', () => {
    const file = path.join(ROOT, 'sst-env.d.ts');
    const generated = sstEnv(d);
    // UPDATE_SST_ENV=1 npx vitest run test/infra/stacks.test.ts rewrites it after a change to the links.
    if (process.env.UPDATE_SST_ENV) writeFileSync(file, generated);
    expect(readFileSync(file, 'utf8')).toBe(generated);
    expect(Object.keys(linkables(d))).toEqual(expect.arrayContaining(Object.values(LINKS)));
  });
});
