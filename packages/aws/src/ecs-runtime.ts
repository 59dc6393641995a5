import {
  type ContainerDefinition,
  CreateServiceCommand,
  type CreateServiceCommandInput,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type Service,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  type ContainerSpec,
  type EnvironmentRef,
  MatineeError,
  type Runtime,
  type ServiceState,
  type TaskSpec,
  TransientError,
} from '@matinee/core';
import { awsTags, ecsTags, TAG_REVISION } from './aws-tags.ts';
import { TaskDefinitions } from './ecs-task-definitions.ts';
import { efsVolumes, mountPoints } from './efs-task-volumes.ts';
import { aws, fromAws, isAwsError } from './errors.ts';

export interface EcsRuntimeOptions {
  ecs: ECSClient;
  /** Name or ARN of the cluster every environment's service runs in (with FARGATE and FARGATE_SPOT providers). */
  cluster: string;
  /** Lets ECS pull images and write logs. */
  executionRoleArn: string;
  /**
   * What the app itself may call on AWS (none when omitted); a task whose volumes need a role of their own
   * (`TaskSpec.identity`, the environment's: efs-volumes.ts) runs as that one instead.
   */
  taskRoleArn?: string;
  /** awslogs group for every container; streams are prefixed with the environment's family. */
  logGroup: string;
  region: string;
  subnets: string[];
  securityGroups: string[];
  /** ENABLED for public subnets without NAT (image pulls need a route out). */
  assignPublicIp: boolean;
  /** How long the ALB's failing checks are ignored after a task starts (apps that boot slowly); 120 s by default. */
  healthCheckGracePeriodSeconds?: number;
  /** The stage's EFS file system, which `.matinee.yml` volumes are access points of (efs-volumes.ts). */
  fileSystemId?: string;
}

/** What the service settings of one environment are, whether created or updated. */
type ServiceShape = Pick<
  CreateServiceCommandInput,
  | 'taskDefinition'
  | 'desiredCount'
  | 'capacityProviderStrategy'
  | 'loadBalancers'
  | 'networkConfiguration'
  | 'healthCheckGracePeriodSeconds'
  | 'deploymentConfiguration'
>;

const SERVICE_ABSENT = ['ServiceNotFoundException', 'ServiceNotActiveException'];

/**
 * IAM is eventually consistent: an environment's role made a moment ago (efs-volumes.ts) may not be
 * assumable by ECS for some seconds, and ECS says so with a validation error naming the role. Not a failure
 * of the environment: the reconcile is retried, by when IAM has caught up.
 */
function roleNotReady(error: unknown): boolean {
  const message = String((error as Error | undefined)?.message ?? '');
  return (
    isAwsError(error, 'InvalidParameterException', 'ClientException') &&
    /role/i.test(message) &&
    /assume|not authorized|does not exist|invalid/i.test(message)
  );
}

function roleLag(call: string, error: unknown): TransientError {
  return new TransientError(`${call}: the task role is not ready in IAM yet; retrying`, { cause: error });
}

/** `aws(call, run)`, with a role IAM has yet to make visible as a transient error. */
async function roleMayLag<T>(call: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (roleNotReady(error)) throw roleLag(call, error);
    throw fromAws(error, call);
  }
}

/** The container that serves HTTP: the one with a port (the app is first by convention). */
function appContainer(spec: TaskSpec): ContainerSpec {
  const app = spec.containers.find((container) => container.port !== undefined) ?? spec.containers[0];
  if (!app) throw new MatineeError(`task revision ${spec.revision} has no containers`);
  return app;
}

/**
 * The `Runtime` on ECS Fargate: a task definition family per environment (a revision per commit and
 * config, tagged with it) and one service per environment registering into the environment's target group.
 */
export class EcsRuntime implements Runtime {
  private readonly options: EcsRuntimeOptions;
  private readonly taskDefinitions: TaskDefinitions;

  constructor(options: EcsRuntimeOptions) {
    this.options = options;
    this.taskDefinitions = new TaskDefinitions(options.ecs);
  }

  private get ecs(): ECSClient {
    return this.options.ecs;
  }

  async describe(ref: EnvironmentRef): Promise<{ service?: ServiceState; revisions: number }> {
    const service = await this.findService(ref);
    if (!service?.serviceArn) {
      // Deregistered revisions keep their tags until deleted. Counting them when nothing else is left
      // lets a teardown cut short between deregistering and deleting be finished by the next one.
      return { revisions: await this.taskDefinitions.countLeft(ref) };
    }
    // The primary deployment is the revision being rolled out; tasks of the one it replaces do not count.
    const primary = service.deployments?.find((deployment) => deployment.status === 'PRIMARY');
    const taskDefinitionArn = primary?.taskDefinition ?? service.taskDefinition ?? '';
    const desiredCount = service.desiredCount ?? 0;
    const runningCount = primary?.runningCount ?? service.runningCount ?? 0;
    const [revision, lastStoppedReason] = await Promise.all([
      this.taskDefinitions.revisionOf(taskDefinitionArn),
      // Only worth two calls when tasks are missing; a service at its count has nothing to explain.
      runningCount < desiredCount ? this.lastStoppedReason(ref) : undefined,
    ]);
    return {
      service: {
        serviceArn: service.serviceArn,
        desiredCount,
        runningCount,
        revision,
        taskDefinitionArn,
        lastStoppedReason,
      },
      // At least the one the service runs: enough for the plan (teardown deregisters them all, listing
      // them itself), and a list call saved on every reconcile of a live environment.
      revisions: 1,
    };
  }

  async registerRevision(ref: EnvironmentRef, spec: TaskSpec): Promise<{ taskDefinitionArn: string }> {
    const family = ref.names.family;
    // A reconcile cut short after registering finds its revision as the family's latest.
    const latest = await this.taskDefinitions.latest(family);
    if (latest && latest.revision === spec.revision) return { taskDefinitionArn: latest.arn };

    const app = appContainer(spec);
    const { taskDefinition } = await roleMayLag(`RegisterTaskDefinition ${family}`, () =>
      this.ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          networkMode: 'awsvpc',
          requiresCompatibilities: ['FARGATE'],
          cpu: String(spec.cpu),
          memory: String(spec.memory),
          runtimePlatform: { operatingSystemFamily: 'LINUX' },
          executionRoleArn: this.options.executionRoleArn,
          taskRoleArn: spec.identity ?? this.options.taskRoleArn,
          containerDefinitions: spec.containers.map((container) => ({
            ...this.containerDefinition(ref, container, container === app ? spec.port : undefined),
            mountPoints: mountPoints(spec, container.name),
          })),
          volumes: efsVolumes(spec, this.options.fileSystemId),
          tags: ecsTags({ ...ref.tags, [TAG_REVISION]: spec.revision }),
        }),
      ),
    );
    const arn = taskDefinition?.taskDefinitionArn;
    if (!arn) throw new MatineeError(`RegisterTaskDefinition ${family} returned no task definition`);
    this.taskDefinitions.registered(arn, awsTags({ ...ref.tags, [TAG_REVISION]: spec.revision }));
    return { taskDefinitionArn: arn };
  }

  async ensureService(
    ref: EnvironmentRef,
    input: { taskDefinitionArn: string; targetGroupArn: string; desiredCount: number; spec: TaskSpec },
  ): Promise<{ serviceArn: string }> {
    const shape = this.serviceShape(input);
    // The recorded ARN only picks which call to try first; each falls back to the other when it finds
    // the service present (a racing create) or absent (deleted meanwhile).
    const order = ref.known.serviceArn
      ? (['update', 'create', 'update'] as const)
      : (['create', 'update'] as const);
    for (const step of order) {
      const serviceArn =
        step === 'create' ? await this.createService(ref, shape) : await this.updateService(ref, shape);
      if (serviceArn) return { serviceArn };
    }
    throw new TransientError(`service ${ref.names.service} was neither created nor found; try again`);
  }

  async scaleService(ref: EnvironmentRef, desiredCount: number): Promise<void> {
    try {
      await this.ecs.send(
        new UpdateServiceCommand({ cluster: this.options.cluster, service: ref.names.service, desiredCount }),
      );
    } catch (error) {
      // Nothing runs in a service that does not exist, which is what scaling to zero asks for.
      if (desiredCount === 0 && isAwsError(error, ...SERVICE_ABSENT)) return;
      throw fromAws(error, `UpdateService ${ref.names.service} desiredCount ${desiredCount}`);
    }
  }

  async deleteService(ref: EnvironmentRef): Promise<void> {
    try {
      // force: no need to scale to zero first; ECS stops the tasks while the service drains.
      await this.ecs.send(
        new DeleteServiceCommand({ cluster: this.options.cluster, service: ref.names.service, force: true }),
      );
    } catch (error) {
      if (isAwsError(error, ...SERVICE_ABSENT)) return;
      throw fromAws(error, `DeleteService ${ref.names.service}`);
    }
  }

  async deregisterRevisions(ref: EnvironmentRef): Promise<void> {
    await this.taskDefinitions.removeAll(ref);
  }

  private containerDefinition(
    ref: EnvironmentRef,
    container: ContainerSpec,
    port?: number,
  ): ContainerDefinition {
    return {
      name: container.name,
      image: container.image,
      command: container.command,
      essential: container.essential,
      dependsOn: container.dependsOn?.map(({ container: containerName, condition }) => ({
        containerName,
        condition,
      })),
      environment: Object.entries(container.env)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, value]) => ({ name, value })),
      portMappings: port === undefined ? undefined : [{ containerPort: port, protocol: 'tcp' }],
      logConfiguration: {
        logDriver: 'awslogs',
        options: {
          'awslogs-group': this.options.logGroup,
          'awslogs-region': this.options.region,
          // The service's name, not the family: the same for tasks of a legacy-family revision.
          'awslogs-stream-prefix': ref.names.service,
        },
      },
    };
  }

  private serviceShape(input: {
    taskDefinitionArn: string;
    targetGroupArn: string;
    desiredCount: number;
    spec: TaskSpec;
  }): ServiceShape {
    return {
      taskDefinition: input.taskDefinitionArn,
      desiredCount: input.desiredCount,
      capacityProviderStrategy: [
        { capacityProvider: input.spec.spot ? 'FARGATE_SPOT' : 'FARGATE', weight: 1 },
      ],
      loadBalancers: [
        {
          targetGroupArn: input.targetGroupArn,
          containerName: appContainer(input.spec).name,
          containerPort: input.spec.port,
        },
      ],
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: this.options.subnets,
          securityGroups: this.options.securityGroups,
          assignPublicIp: this.options.assignPublicIp ? 'ENABLED' : 'DISABLED',
        },
      },
      healthCheckGracePeriodSeconds: this.options.healthCheckGracePeriodSeconds ?? 120,
      // A preview may go down during a deploy; a revision that never gets healthy stops being retried
      // (and stays failed, not rolled back: the pull request is about the new commit).
      deploymentConfiguration: {
        deploymentCircuitBreaker: { enable: true, rollback: false },
        minimumHealthyPercent: 0,
        maximumPercent: 200,
      },
    };
  }

  /** The service's ARN, or undefined when it already exists (another reconcile created it). */
  private async createService(ref: EnvironmentRef, shape: ServiceShape): Promise<string | undefined> {
    try {
      const { service } = await this.ecs.send(
        new CreateServiceCommand({
          cluster: this.options.cluster,
          serviceName: ref.names.service,
          ...shape,
          enableECSManagedTags: true,
          propagateTags: 'SERVICE',
          tags: ecsTags(ref.tags),
        }),
      );
      return this.arnOf(service, 'CreateService', ref);
    } catch (error) {
      const message = String((error as Error).message ?? '');
      if (isAwsError(error, 'InvalidParameterException') && /not idempotent|already exists/i.test(message))
        return undefined;
      if (roleNotReady(error)) throw roleLag(`CreateService ${ref.names.service}`, error);
      // A deleted service drains before its name can be used again.
      if (isAwsError(error, 'InvalidParameterException') && /draining/i.test(message)) {
        throw new TransientError(
          `CreateService ${ref.names.service}: the previous service is still draining`,
          {
            cause: error,
          },
        );
      }
      throw fromAws(error, `CreateService ${ref.names.service}`);
    }
  }

  /** The service's ARN, or undefined when there is no active service to update. */
  private async updateService(ref: EnvironmentRef, shape: ServiceShape): Promise<string | undefined> {
    let service: Service | undefined;
    try {
      // A new revision is rolling out, so a new deployment is wanted anyway; forcing it also lets the
      // capacity provider change (Spot to on-demand), which ECS takes only with one.
      ({ service } = await this.ecs.send(
        new UpdateServiceCommand({
          cluster: this.options.cluster,
          service: ref.names.service,
          ...shape,
          forceNewDeployment: true,
        }),
      ));
    } catch (error) {
      if (isAwsError(error, ...SERVICE_ABSENT)) return undefined;
      if (roleNotReady(error)) throw roleLag(`UpdateService ${ref.names.service}`, error);
      throw fromAws(error, `UpdateService ${ref.names.service}`);
    }
    const arn = this.arnOf(service, 'UpdateService', ref);
    // The revisions this rollout replaces are retired at once: the circuit breaker never rolls back to them
    // (rollback is off), their tasks run on until replaced, and the family holds one active revision.
    const superseded = new Set(
      (service?.deployments ?? [])
        .map((deployment) => deployment.taskDefinition)
        .filter((td): td is string => Boolean(td) && td !== shape.taskDefinition),
    );
    await this.taskDefinitions.retire(ref, superseded);
    return arn;
  }

  private arnOf(service: Service | undefined, call: string, ref: EnvironmentRef): string {
    if (!service?.serviceArn) throw new MatineeError(`${call} ${ref.names.service} returned no service`);
    return service.serviceArn;
  }

  /** The environment's service while it is ACTIVE; a DRAINING or INACTIVE one is on its way out. */
  private async findService(ref: EnvironmentRef): Promise<Service | undefined> {
    const { services } = await aws(`DescribeServices ${ref.names.service}`, () =>
      this.ecs.send(
        new DescribeServicesCommand({ cluster: this.options.cluster, services: [ref.names.service] }),
      ),
    );
    return services?.find(
      (service) => service.serviceName === ref.names.service && service.status === 'ACTIVE',
    );
  }

  /** Why the most recently stopped task of the service stopped (ECS keeps stopped tasks about an hour). */
  private async lastStoppedReason(ref: EnvironmentRef): Promise<string | undefined> {
    const cluster = this.options.cluster;
    const { taskArns } = await aws(`ListTasks ${ref.names.service} STOPPED`, () =>
      this.ecs.send(
        new ListTasksCommand({ cluster, serviceName: ref.names.service, desiredStatus: 'STOPPED' }),
      ),
    );
    if (!taskArns?.length) return undefined;
    const { tasks } = await aws(`DescribeTasks ${ref.names.service}`, () =>
      this.ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns.slice(0, 100) })),
    );
    const latest = (tasks ?? [])
      .filter((task) => task.stoppedReason)
      .sort((a, b) => (b.stoppedAt?.getTime() ?? 0) - (a.stoppedAt?.getTime() ?? 0))[0];
    return latest?.stoppedReason;
  }
}
