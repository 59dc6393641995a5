import {
  type ContainerDefinition,
  CreateServiceCommand,
  type CreateServiceCommandInput,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  type Service,
  type TaskDefinitionStatus,
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
import { ecsTags, TAG_REVISION, tagRecord } from './aws-tags.ts';
import { efsVolumes, mountPoints } from './efs-task-volumes.ts';
import { aws, fromAws, isAwsError } from './errors.ts';

export interface EcsRuntimeOptions {
  ecs: ECSClient;
  /** Name or ARN of the cluster every environment's service runs in (with FARGATE and FARGATE_SPOT providers). */
  cluster: string;
  /** Lets ECS pull images and write logs. */
  executionRoleArn: string;
  /** What the app itself may call on AWS; none when omitted. */
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
/** DeleteTaskDefinitions takes at most this many ARNs per call. */
const DELETE_BATCH = 10;

/** `arn:…:task-definition/<family>:<n>` → family; the list filter is by prefix, so results are checked. */
function familyOf(taskDefinitionArn: string): string | undefined {
  return /:task-definition\/(.+):\d+$/.exec(taskDefinitionArn)?.[1];
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
  /** Task definition ARNs are immutable, and so is the revision tag Matinee gave them: remembered per ARN. */
  private readonly revisionByArn = new Map<string, string | undefined>();

  constructor(options: EcsRuntimeOptions) {
    this.options = options;
  }

  private get ecs(): ECSClient {
    return this.options.ecs;
  }

  async describe(ref: EnvironmentRef): Promise<{ service?: ServiceState; revisions: number }> {
    const service = await this.findService(ref);
    if (!service?.serviceArn) {
      // Deregistered revisions keep their tags until deleted. Counting them when nothing else is left
      // lets a teardown cut short between deregistering and deleting be finished by the next one.
      const active = await this.listRevisions(ref.names.family, 'ACTIVE');
      const left = active.length > 0 ? active : await this.listRevisions(ref.names.family, 'INACTIVE');
      return { revisions: left.length };
    }
    // The primary deployment is the revision being rolled out; tasks of the one it replaces do not count.
    const primary = service.deployments?.find((deployment) => deployment.status === 'PRIMARY');
    const taskDefinitionArn = primary?.taskDefinition ?? service.taskDefinition ?? '';
    const desiredCount = service.desiredCount ?? 0;
    const runningCount = primary?.runningCount ?? service.runningCount ?? 0;
    const [revision, lastStoppedReason] = await Promise.all([
      this.revisionOf(taskDefinitionArn),
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
    const latest = await this.latestRevision(family);
    if (latest && latest.revision === spec.revision) return { taskDefinitionArn: latest.arn };

    const app = appContainer(spec);
    const { taskDefinition } = await aws(`RegisterTaskDefinition ${family}`, () =>
      this.ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          networkMode: 'awsvpc',
          requiresCompatibilities: ['FARGATE'],
          cpu: String(spec.cpu),
          memory: String(spec.memory),
          runtimePlatform: { operatingSystemFamily: 'LINUX' },
          executionRoleArn: this.options.executionRoleArn,
          taskRoleArn: this.options.taskRoleArn,
          containerDefinitions: spec.containers.map((container) => ({
            ...this.containerDefinition(family, container, container === app ? spec.port : undefined),
            mountPoints: mountPoints(spec, container.name),
          })),
          volumes: efsVolumes(spec, this.options.fileSystemId),
          tags: ecsTags({ ...ref.tags, [TAG_REVISION]: spec.revision }),
        }),
      ),
    );
    const arn = taskDefinition?.taskDefinitionArn;
    if (!arn) throw new MatineeError(`RegisterTaskDefinition ${family} returned no task definition`);
    this.revisionByArn.set(arn, spec.revision);
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
    const family = ref.names.family;
    const deregistered = await this.listRevisions(family, 'ACTIVE');
    for (const arn of deregistered) await this.deregister(arn);
    // Deregistered revisions stay (and stay tagged) until deleted. The ones just deregistered are named
    // directly (a listing may not show them as inactive yet); leftovers of an interrupted run go too.
    const listed = await this.listRevisions(family, 'INACTIVE');
    const inactive = [...new Set([...deregistered, ...listed])];
    for (let start = 0; start < inactive.length; start += DELETE_BATCH) {
      const batch = inactive.slice(start, start + DELETE_BATCH);
      try {
        await this.ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: batch }));
      } catch (error) {
        // Deleting is tidiness, not correctness: a region or endpoint without the call keeps them inactive.
        if (isAwsError(error, 'InvalidParameterException', 'ClientException', 'UnsupportedFeatureException'))
          return;
        throw fromAws(error, `DeleteTaskDefinitions ${family}`);
      }
    }
  }

  private containerDefinition(family: string, container: ContainerSpec, port?: number): ContainerDefinition {
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
          'awslogs-stream-prefix': family,
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
    for (const td of superseded) await this.deregister(td);
    return arn;
  }

  /** Deregisters one revision; one already inactive (a concurrent run got there first) is done. */
  private async deregister(taskDefinitionArn: string): Promise<void> {
    try {
      await this.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: taskDefinitionArn }));
    } catch (error) {
      if (isAwsError(error, 'ClientException') && /inactive/i.test(String((error as Error).message))) return;
      throw fromAws(error, `DeregisterTaskDefinition ${taskDefinitionArn}`);
    }
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

  /** Revisions of exactly this family in `status`, every page. */
  private async listRevisions(family: string, status: TaskDefinitionStatus): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await aws(`ListTaskDefinitions ${family} ${status}`, () =>
        this.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family, status, nextToken })),
      );
      arns.push(...(page.taskDefinitionArns ?? []).filter((arn) => familyOf(arn) === family));
      nextToken = page.nextToken;
    } while (nextToken);
    return arns;
  }

  /** The family's latest ACTIVE revision and its Matinee revision tag, or undefined when it has none. */
  private async latestRevision(family: string): Promise<{ arn: string; revision?: string } | undefined> {
    try {
      const { taskDefinition, tags } = await this.ecs.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ['TAGS'] }),
      );
      const arn = taskDefinition?.taskDefinitionArn;
      if (!arn || taskDefinition?.status !== 'ACTIVE') return undefined;
      const revision = tagRecord(tags)[TAG_REVISION];
      this.revisionByArn.set(arn, revision);
      return { arn, revision };
    } catch (error) {
      // ECS answers a family without active revisions with a ClientException ("Unable to describe").
      if (isAwsError(error, 'ClientException')) return undefined;
      throw fromAws(error, `DescribeTaskDefinition ${family}`);
    }
  }

  private async revisionOf(taskDefinitionArn: string): Promise<string | undefined> {
    if (!taskDefinitionArn) return undefined;
    if (this.revisionByArn.has(taskDefinitionArn)) return this.revisionByArn.get(taskDefinitionArn);
    try {
      const { tags } = await this.ecs.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn, include: ['TAGS'] }),
      );
      const revision = tagRecord(tags)[TAG_REVISION];
      this.revisionByArn.set(taskDefinitionArn, revision);
      return revision;
    } catch (error) {
      // A service running a task definition Matinee cannot read has no Matinee revision.
      if (isAwsError(error, 'ClientException')) return undefined;
      throw fromAws(error, `DescribeTaskDefinition ${taskDefinitionArn}`);
    }
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
