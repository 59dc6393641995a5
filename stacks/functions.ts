import { LINKS, type StageSettings } from '../functions/lib/settings.ts';
import { MATINEE_EVENT_SOURCE, RECONCILE_REQUESTED } from '../packages/aws/src/reconcile-requested.ts';
import type { Build } from './build.ts';
import { LAMBDA_BUNDLING } from './bundling.ts';
import type { AwsContext, Cluster } from './cluster.ts';
import type { Data } from './data.ts';
import { attachWake, type Edge } from './edge.ts';
import type { Network } from './network.ts';
import { type FunctionName, functionPermissions } from './permissions.ts';
import type { StageInput } from './settings.ts';
import type { StageVolumes } from './volumes.ts';

/** A value whose leaves may be Pulumi inputs, as a linkable's properties are (a union leaf is one input). */
type DeepInput<T> = [T] extends [readonly unknown[]]
  ? $util.Input<T>
  : [T] extends [object]
    ? { [K in keyof T]: DeepInput<T[K]> }
    : $util.Input<T>;

export interface Functions {
  webhook: sst.aws.Function;
  wake: sst.aws.Function;
  reconcile: sst.aws.Function;
  taskEvents: sst.aws.Function;
  sweep: sst.aws.Function;
  resync: sst.aws.Function;
}

/** How long an event may wait for its function (EventBridge retries within it, then dead-letters it). */
const EVENT_MAX_AGE_SECONDS = 3600;

/**
 * The control plane: six functions, each linked to only what it reads (stage settings, table and bus names,
 * the secrets it needs) and allowed only what it calls (stacks/permissions.ts).
 */
export function functions(parts: {
  input: StageInput;
  context: AwsContext;
  net: Network;
  front: Edge;
  compute: Cluster;
  store: Data;
  disks: StageVolumes;
  builds: Build;
}): Functions {
  const { input, context, net, front, compute, store, disks, builds } = parts;

  const oauth = oauthClient();
  const settingsProperties: DeepInput<StageSettings> = {
    stage: input.stage,
    domain: input.domain,
    region: context.region,
    cluster: { name: compute.cluster.name, arn: compute.cluster.arn },
    loadBalancer: { fullName: front.loadBalancer.arnSuffix, listenerArn: front.listener.arn },
    network: {
      vpcId: net.vpcId,
      subnets: net.subnets,
      securityGroups: $util.output([net.taskSecurityGroupId]),
      assignPublicIp: net.assignPublicIp,
    },
    roles: { executionRoleArn: compute.executionRole.arn, taskRoleArn: compute.taskRole.arn },
    logGroup: compute.logGroup.name,
    volumes: $util
      .all([disks.fileSystem.id, disks.janitor.name, disks.roleBoundary.arn])
      .apply(([fileSystemId, janitorFunction, roleBoundaryArn]) => ({
        fileSystemId,
        janitorFunction,
        roleBoundaryArn,
      })),
    githubApiUrl: input.githubApiUrl,
    access: { mode: input.access.mode },
    maxAwake: input.maxAwake,
    prices: input.prices,
    limits: input.limits,
    // For repositories whose .matinee.yml sets no size or idle timeout.
    defaults: input.defaults,
    build: $util.output({
      project: builds.project.name,
      bucket: builds.bucket.bucket,
      repository: builds.repository.name,
      repositoryUrl: builds.repository.repositoryUrl,
      logGroup: builds.logGroup.name,
    }),
  };
  const settings = new sst.Linkable(LINKS.settings, { properties: settingsProperties });

  // The App pair or the token: whichever the user sets, the others stay empty.
  const githubAppId = new sst.Secret(LINKS.githubAppId, '');
  const githubPrivateKey = new sst.Secret(LINKS.githubPrivateKey, '');
  const githubToken = new sst.Secret(LINKS.githubToken, '');
  const webhookSecret = new sst.Secret(LINKS.webhookSecret);
  // Empty: the dashboard is off.
  const dashboardPassword = new sst.Secret(LINKS.dashboardPassword, '');
  const github = [githubAppId, githubPrivateKey, githubToken];
  const { table, bus, deadLetters } = store;

  const statements = $resolve({
    partition: context.partition,
    region: context.region,
    account: context.account,
    stage: input.stage,
    clusterName: compute.cluster.name,
    clusterArn: compute.cluster.arn,
    listenerArn: front.listener.arn,
    tableArn: table.arn,
    busArn: bus.arn,
    executionRoleArn: compute.executionRole.arn,
    taskRoleArn: compute.taskRole.arn,
    deadLetterQueueArn: deadLetters.arn,
    previewLogGroupArn: compute.logGroup.arn,
    fileSystemArn: disks.fileSystem.arn,
    janitorFunctionArn: disks.janitor.arn,
    volumeRoleBoundaryArn: disks.roleBoundary.arn,
    build: {
      projectArn: builds.project.arn,
      bucketArn: builds.bucket.arn,
      repositoryArn: builds.repository.arn,
      logGroupArn: builds.logGroup.arn,
    },
  }).apply(functionPermissions);
  const permissions = (name: FunctionName) => statements.apply((all) => all[name]);

  const common = {
    runtime: 'nodejs22.x',
    architecture: 'arm64',
    memory: '512 MB',
    logging: { retention: '1 month' },
    nodejs: LAMBDA_BUNDLING,
  } as const;
  // Failed asynchronous invocations (after Lambda's own two retries) are kept in the dead-letter queue.
  const deadLettered = {
    retries: 2,
    transform: {
      eventInvokeConfig: {
        maximumEventAgeInSeconds: EVENT_MAX_AGE_SECONDS,
        destinationConfig: { onFailure: { destination: deadLetters.arn } },
      },
    },
  };

  const webhook = new sst.aws.Function('MatineeWebhook', {
    ...common,
    description: 'GitHub webhooks: verify, record the desired state, ask for a reconcile',
    handler: 'functions/github-webhook.handler',
    // GitHub signs every delivery; the function verifies the signature with the webhook secret.
    url: { authorization: 'none', cors: false },
    // GitHub gives up on a delivery after 10 s.
    timeout: '10 seconds',
    link: [table, bus, settings, ...github, webhookSecret],
    permissions: permissions('github-webhook'),
  });

  const wake = new sst.aws.Function('MatineeWake', {
    ...common,
    description: 'The load balancer default rule: waking pages of sleeping previews, and the dashboard',
    handler: 'functions/wake.handler',
    timeout: '30 seconds',
    // The OAuth client: the sign-in for MATINEE_ACCESS=github happens on the dashboard's domain.
    link: [table, bus, settings, dashboardPassword, ...oauth],
    permissions: permissions('wake'),
  });
  attachWake(front, wake);

  const reconcile = new sst.aws.Function('MatineeReconcile', {
    ...common,
    ...deadLettered,
    description: 'Makes the cloud match what one environment should be',
    handler: 'functions/reconcile.handler',
    timeout: '5 minutes',
    link: [table, settings, ...github, bus],
    permissions: permissions('reconcile'),
  });

  const taskEvents = new sst.aws.Function('MatineeTaskEvents', {
    ...common,
    ...deadLettered,
    description: "ECS task state changes of this stage's cluster",
    handler: 'functions/task-events.handler',
    timeout: '30 seconds',
    link: [table, bus, settings],
    permissions: permissions('task-events'),
  });

  const sweep = new sst.aws.Function('MatineeSweep', {
    ...common,
    description: 'Puts idle previews to sleep',
    handler: 'functions/sweep.handler',
    timeout: '2 minutes',
    link: [table, bus, settings],
    permissions: permissions('sweep'),
  });

  const resync = new sst.aws.Function('MatineeResync', {
    ...common,
    description: 'Closes what GitHub closed, retries what is stuck, removes orphaned resources',
    handler: 'functions/resync.handler',
    timeout: '5 minutes',
    link: [table, bus, settings, ...github],
    permissions: permissions('resync'),
  });

  // Reconcile requests on Matinee's own bus.
  const reconcileRule = new aws.cloudwatch.EventRule('MatineeReconcileRequested', {
    description: 'environment.reconcile-requested → reconcile',
    eventBusName: bus.name,
    eventPattern: JSON.stringify({ source: [MATINEE_EVENT_SOURCE], 'detail-type': [RECONCILE_REQUESTED] }),
  });
  // Task state changes arrive on the default bus, for every cluster of the account: this cluster's only,
  // and only stopped tasks (crashes); a task's other states say nothing Matinee acts on.
  const taskRule = new aws.cloudwatch.EventRule('MatineeTaskStateChanged', {
    description: "ECS Task State Change (STOPPED) of this stage's cluster → task-events",
    eventPattern: compute.cluster.arn.apply((clusterArn) =>
      JSON.stringify({
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        detail: { clusterArn: [clusterArn], lastStatus: ['STOPPED'] },
      }),
    ),
  });
  // A started task turns healthy behind the ALB some seconds after it is RUNNING, and no task event says so;
  // ECS says it of the service instead ("has reached a steady state"), which is when the host rule can go on.
  // A task ECS cannot place (Spot without room) moves the environment to on-demand.
  const steadyRule = new aws.cloudwatch.EventRule('MatineeServiceSteady', {
    description:
      "ECS SERVICE_STEADY_STATE and SERVICE_TASK_PLACEMENT_FAILURE of this stage's cluster → task-events",
    eventPattern: compute.cluster.arn.apply((clusterArn) =>
      JSON.stringify({
        source: ['aws.ecs'],
        'detail-type': ['ECS Service Action'],
        detail: {
          clusterArn: [clusterArn],
          eventName: ['SERVICE_STEADY_STATE', 'SERVICE_TASK_PLACEMENT_FAILURE'],
        },
      }),
    ),
  });
  // A build of this stage's project started, finished, failed or was stopped: its environment's reconcile reads
  // where it stands (task-events asks for that reconcile, as for a stopped task).
  const buildRule = new aws.cloudwatch.EventRule('MatineeBuildStateChanged', {
    description: "CodeBuild Build State Change of this stage's project → task-events",
    eventPattern: builds.project.name.apply((project) =>
      JSON.stringify({
        source: ['aws.codebuild'],
        'detail-type': ['CodeBuild Build State Change'],
        detail: { 'project-name': [project] },
      }),
    ),
  });
  for (const [name, rule, fn, eventBusName] of [
    ['MatineeReconcile', reconcileRule, reconcile, bus.name],
    ['MatineeTaskEvents', taskRule, taskEvents, undefined],
    ['MatineeServiceSteady', steadyRule, taskEvents, undefined],
    ['MatineeBuildEvents', buildRule, taskEvents, undefined],
  ] as const) {
    const permission = new aws.lambda.Permission(`${name}InvokedByRule`, {
      action: 'lambda:InvokeFunction',
      function: fn.arn,
      principal: 'events.amazonaws.com',
      sourceArn: rule.arn,
    });
    new aws.cloudwatch.EventTarget(
      `${name}Target`,
      {
        rule: rule.name,
        eventBusName,
        arn: fn.arn,
        // Events EventBridge could not deliver (throttling, a missing permission) are kept, not dropped.
        deadLetterConfig: { arn: deadLetters.arn },
        retryPolicy: { maximumEventAgeInSeconds: EVENT_MAX_AGE_SECONDS, maximumRetryAttempts: 20 },
      },
      { dependsOn: [permission] },
    );
  }
  new aws.sqs.QueuePolicy('MatineeDeadLettersFromRules', {
    queueUrl: deadLetters.url,
    policy: aws.iam.getPolicyDocumentOutput({
      statements: [
        {
          actions: ['sqs:SendMessage'],
          principals: [{ type: 'Service', identifiers: ['events.amazonaws.com'] }],
          resources: [deadLetters.arn],
          conditions: [
            {
              test: 'ArnEquals',
              variable: 'aws:SourceArn',
              values: [reconcileRule.arn, taskRule.arn, steadyRule.arn, buildRule.arn],
            },
          ],
        },
      ],
    }).json,
  });

  new sst.aws.Cron('MatineeSweepSchedule', {
    schedule: input.sweepSchedule as `rate(${string})`,
    function: sweep,
  });
  new sst.aws.Cron('MatineeResyncSchedule', {
    schedule: input.resyncSchedule as `rate(${string})`,
    function: resync,
  });

  return { webhook, wake, reconcile, taskEvents, sweep, resync };
}

/**
 * The GitHub App's OAuth client (its Client ID and a client secret), which `MATINEE_ACCESS=github` signs
 * reviewers in with; empty unless set (stacks/settings.ts stops a github-mode deploy without them).
 */
function oauthClient(): sst.Secret[] {
  return [LINKS.githubClientId, LINKS.githubClientSecret].map((name) => new sst.Secret(name, ''));
}
