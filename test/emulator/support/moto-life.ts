import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { buildPart } from '../../../functions/lib/platform.ts';
import { taskStateChanged } from '../../../functions/task-events.ts';
import { allParts } from '../../support/all-parts.ts';
import { AwsCallRecorder } from '../../support/aws-call-recorder.ts';
import { deliverReconcile, HOST, stageConfig, stageDriver } from '../../support/aws-deployment.ts';
import type { FakeGithub } from '../../support/fake-github.ts';
import { ManualClock, MemoryLogger } from '../../support/fakes.ts';
import { CodeBuildStandIn } from './codebuild-stand-in.ts';
import { EcsStandIn } from './ecs-stand-in.ts';
import { type MotoClients, motoClient, motoStage } from './moto-stage.ts';

export { HOST };

/**
 * Every Lambda handler of one stage over moto: the real adapters on clients pointed at moto (each call
 * recorded, with the function that made it: `as` names the function for a handler a test calls directly),
 * the store on DynamoDB Local, GitHub's API served by a stand-in (a tarball needs its `codeload`:
 * test/support/fake-codeload.ts). Free of vitest, so bench/ runs it too; tests take it through
 * support/moto-deployment.ts, which also has every call simulated against IAM. Events travel as on AWS:
 * PutEvents onto the stage's bus in moto, moto's rules (the stacks' patterns) deliver them to queues, and
 * `settle` hands each queued event to the function the rule targets, moves CodeBuild's builds and runs ECS's
 * scheduler (the stand-ins), and repeats until nothing more happens.
 */
export async function motoLife(
  github: FakeGithub,
  options: {
    /** moto's server. */
    endpoint: string;
    /** A fresh table of the store, on DynamoDB Local. */
    table: { tableName: string; client: DynamoDBDocumentClient };
    domain?: string;
    maxAwake?: number;
    print?: boolean;
  },
) {
  const moto = await motoStage(options.endpoint, options);
  const { table } = options;
  const log: string[] = [];
  const record = (call: string) => log.push(call);
  const clients: MotoClients = {
    ecs: motoClient(ECSClient, moto.endpoint, { name: 'ECS', record }),
    elb: motoClient(ElasticLoadBalancingV2Client, moto.endpoint, { name: 'ELB', record }),
    cloudwatch: motoClient(CloudWatchClient, moto.endpoint, { name: 'CloudWatch', record }),
    eventbridge: motoClient(EventBridgeClient, moto.endpoint, { name: 'EventBridge', record }),
    tagging: motoClient(ResourceGroupsTaggingAPIClient, moto.endpoint, { name: 'Tagging', record }),
    codebuild: motoClient(CodeBuildClient, moto.endpoint, { name: 'CodeBuild', record }),
    s3: motoClient(S3Client, moto.endpoint, { name: 'S3', record }),
    ecr: motoClient(ECRClient, moto.endpoint, { name: 'ECR', record }),
    logs: motoClient(CloudWatchLogsClient, moto.endpoint, { name: 'Logs', record }),
  };
  const recorder = new AwsCallRecorder().attach(...Object.values(clients), table.client);
  const ecs = new EcsStandIn(moto);
  ecs.attach(clients.ecs);
  // The build's own calls (source, push, log) are CodeBuild's role's, recorded apart from the functions'.
  const buildRole = {
    s3: motoClient(S3Client, moto.endpoint),
    ecr: motoClient(ECRClient, moto.endpoint),
    logs: motoClient(CloudWatchLogsClient, moto.endpoint),
  };
  const builds = new CodeBuildStandIn(moto, {
    clients: buildRole,
    as: (fn) => recorder.as('build', fn),
  });
  builds.attach(clients.codebuild);
  recorder.attach(...Object.values(buildRole));

  /** Each handler invocation's wall time, in order (bench/build.ts sums them). */
  const timings: { caller: string; ms: number }[] = [];
  const as = async <T>(name: string, fn: () => Promise<T>) => {
    const started = performance.now();
    try {
      return await recorder.as(name, fn);
    } finally {
      timings.push({ caller: name, ms: performance.now() - started });
    }
  };

  const config = stageConfig(github, { table: table.tableName, bus: moto.busName }, () => ({
    ...moto.settings,
    githubApiUrl: github.url,
  }));
  const clock = new ManualClock(new Date());
  const logger = new MemoryLogger();
  const parts = allParts(config, { ...clients, dynamo: table.client }, logger);
  // `build:` on CodeBuild, the commit's tarball from the GitHub stand-in (its `codeload`), as reconcile composes it.
  const platform = { ...parts, ...buildPart(config, parts.source, clients), clock };

  /** Queued events to their functions, the scheduler's pass, again until quiet. */
  async function settle(): Promise<void> {
    for (let round = 0; round < 50; round++) {
      let work = 0;
      for (const event of await moto.reconcileQueue.drain()) {
        work++;
        await deliverReconcile(platform, as, event, 3);
      }
      work += await builds.tick();
      work += await ecs.tick();
      for (const event of await moto.taskEventsQueue.drain()) {
        work++;
        await as('task-events', () => taskStateChanged(platform, event));
      }
      if (!work) return;
    }
    throw new Error('the stage on moto did not settle in 50 rounds');
  }

  return {
    moto,
    ecs,
    builds,
    clients,
    table,
    platform,
    clock,
    logger,
    settle,
    ...stageDriver(platform, as, settle, () => log, options.print),
    as,
    recorder,
    timings,
    calls: () => [...log],
  };
}
export type MotoLife = Awaited<ReturnType<typeof motoLife>>;
