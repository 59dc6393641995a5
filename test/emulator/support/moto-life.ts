import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { taskStateChanged } from '../../../functions/task-events.ts';
import { allParts } from '../../support/all-parts.ts';
import { AwsCallRecorder } from '../../support/aws-call-recorder.ts';
import { type As, deliverReconcile, HOST, stageConfig, stageDriver } from '../../support/aws-deployment.ts';
import type { FakeGithub } from '../../support/fake-github.ts';
import { ManualClock, MemoryLogger } from '../../support/fakes.ts';
import { EcsStandIn } from './ecs-stand-in.ts';
import { type MotoClients, motoClient, motoStage } from './moto-stage.ts';

export { HOST };

/**
 * Every Lambda handler of one stage over moto: the real adapters on clients pointed at moto (each call
 * recorded, with the function that made it: `as` names the function for a handler a test calls directly),
 * the store on DynamoDB Local, GitHub's API served by a stand-in. Free of vitest, so bench/ runs it too;
 * tests take it through support/moto-deployment.ts, which also has every call simulated against IAM. Events travel as on AWS:
 * PutEvents onto the stage's bus in moto, moto's rules (the stacks' patterns) deliver them to queues, and
 * `settle` hands each queued event to the function the rule targets, runs the ECS stand-in's scheduler, and
 * repeats until nothing more happens.
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
  };
  const ecs = new EcsStandIn(moto);
  ecs.attach(clients.ecs);
  const recorder = new AwsCallRecorder().attach(...Object.values(clients), table.client);
  const as: As = (name, fn) => recorder.as(name, fn);

  const config = stageConfig(github, { table: table.tableName, bus: moto.busName }, () => ({
    ...moto.settings,
    githubApiUrl: github.url,
  }));
  const clock = new ManualClock(new Date());
  const logger = new MemoryLogger();
  const platform = { ...allParts(config, { ...clients, dynamo: table.client }, logger), clock };

  /** Queued events to their functions, the scheduler's pass, again until quiet. */
  async function settle(): Promise<void> {
    for (let round = 0; round < 50; round++) {
      let work = 0;
      for (const event of await moto.reconcileQueue.drain()) {
        work++;
        await deliverReconcile(platform, as, event, 3);
      }
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
    clients,
    table,
    platform,
    clock,
    logger,
    settle,
    ...stageDriver(platform, as, settle, () => log, options.print),
    as,
    recorder,
    calls: () => [...log],
  };
}
export type MotoLife = Awaited<ReturnType<typeof motoLife>>;
