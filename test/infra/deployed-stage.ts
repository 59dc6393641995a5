import type { FunctionName } from '../../stacks/permissions.ts';
import type { StageResources } from '../../stacks/stage-resources.ts';
import { ACCOUNT, type Deployment, one, REGION } from './sst-harness.ts';

/** Each function's component in sst.config.ts: its role is `<component>Role`, its Lambda `<component>Function`. */
export const COMPONENT: Record<FunctionName, string> = {
  'github-webhook': 'MatineeWebhook',
  wake: 'MatineeWake',
  reconcile: 'MatineeReconcile',
  'task-events': 'MatineeTaskEvents',
  sweep: 'MatineeSweep',
  resync: 'MatineeResync',
};

/** The resources stage `stage` of `d` (deployed under the harness's mocks) gives its functions' policies. */
export function deployedResources(d: Deployment, stage: string): StageResources {
  const state = (type: string, name: string) => one(d, type, name).state;
  const cluster = state('aws:ecs/cluster:Cluster', 'MatineeCluster');
  return {
    partition: 'aws',
    region: REGION,
    account: ACCOUNT,
    stage,
    clusterName: cluster.name,
    clusterArn: cluster.arn,
    listenerArn: state('aws:lb/listener:Listener', 'MatineeHttps').arn,
    tableArn: state('aws:dynamodb/table:Table', 'MatineeTableTable').arn,
    busArn: state('aws:cloudwatch/eventBus:EventBus', 'MatineeBusBus').arn,
    executionRoleArn: state('aws:iam/role:Role', 'MatineeTaskExecutionRole').arn,
    taskRoleArn: state('aws:iam/role:Role', 'MatineePreviewTaskRole').arn,
    deadLetterQueueArn: state('aws:sqs/queue:Queue', 'MatineeDeadLetters').arn,
    previewLogGroupArn: state('aws:cloudwatch/logGroup:LogGroup', 'MatineePreviewLogs').arn,
    fileSystemArn: state('aws:efs/fileSystem:FileSystem', 'MatineeVolumes').arn,
    janitorFunctionArn: state('aws:lambda/function:Function', 'MatineeVolumeJanitorFunction').arn,
    volumeRoleBoundaryArn: state('aws:iam/policy:Policy', 'MatineePreviewVolumeBoundary').arn,
    build: {
      projectArn: state('aws:codebuild/project:Project', 'MatineeBuild').arn,
      bucketArn: state('aws:s3/bucket:Bucket', 'MatineeBuildSources').arn,
      repositoryArn: state('aws:ecr/repository:Repository', 'MatineeImages').arn,
      logGroupArn: state('aws:cloudwatch/logGroup:LogGroup', 'MatineeBuildLogs').arn,
    },
  };
}
