import { randomBytes } from 'node:crypto';
import {
  DescribeServicesCommand,
  type DescribeServicesCommandOutput,
  type ECSClient,
  ListServicesCommand,
  type Service,
  ServiceNotActiveException,
  type UpdateServiceCommandOutput,
} from '@aws-sdk/client-ecs';
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { MotoStage } from './moto-stage.ts';

/** One running task as the stand-in keeps it: what moto never runs. */
interface Task {
  arn: string;
  service: string;
  taskDefinitionArn: string;
  ip: string;
  targetGroupArn?: string;
  port?: number;
}

/**
 * What ECS does that moto's ECS does not (test/emulator/README.md lists each): run a service's tasks,
 * register them in the service's target group (where moto's ALB then reports them healthy), roll a service
 * onto the task definition `UpdateService` gave it, refuse `UpdateService` on an INACTIVE service, and emit
 * the events ECS emits (`SERVICE_STEADY_STATE`, STOPPED tasks) onto the default bus, where moto's rules with
 * the stacks' patterns route them. Everything else the adapters see is moto's own state.
 */
export class EcsStandIn {
  /** Tasks per service ARN. */
  private readonly tasks = new Map<string, Task[]>();
  private readonly steadyReported = new Set<string>();
  private serial = 0;
  /** Services whose next task fails to start: the task stops at once with this reason. */
  readonly crashing = new Map<string, string>();

  constructor(private readonly moto: MotoStage) {}

  /** Teaches an instrumented ECS client what moto does not do (see the class comment). */
  attach(ecs: ECSClient): void {
    ecs.middlewareStack.add(
      (next, context) => async (args) => {
        const input = (args as { input: Record<string, unknown> }).input;
        const before =
          context.commandName === 'UpdateServiceCommand'
            ? await this.refuseInactive(String(input.service))
            : undefined;
        const result = await next(args);
        if (context.commandName === 'DescribeServicesCommand')
          this.reportDeployments(result.output as DescribeServicesCommandOutput);
        if (before) this.reportRollout(result.output as UpdateServiceCommandOutput, before);
        return result;
      },
      { step: 'initialize', name: 'ecsStandIn', priority: 'low' },
    );
  }

  /** AWS: `ServiceNotActiveException`; moto updates a deleted service. The service as it was, otherwise. */
  private async refuseInactive(service: string): Promise<Service | undefined> {
    const [found] = await this.describe([service]);
    if (found?.status === 'INACTIVE') {
      throw new ServiceNotActiveException({ message: 'Service was not ACTIVE.', $metadata: {} });
    }
    return found;
  }

  /**
   * ECS answers an `UpdateService` that changes the task definition with the new PRIMARY deployment and the
   * one it replaces, ACTIVE until drained; moto answers with the deployment `CreateService` made.
   */
  private reportRollout(output: UpdateServiceCommandOutput, before: Service): void {
    const service = output.service;
    if (!service?.taskDefinition) return;
    const replaced = before.taskDefinition;
    service.deployments = [
      { status: 'PRIMARY', taskDefinition: service.taskDefinition, desiredCount: service.desiredCount },
      ...(replaced && replaced !== service.taskDefinition
        ? [{ status: 'ACTIVE', taskDefinition: replaced, desiredCount: before.desiredCount }]
        : []),
    ];
  }

  /**
   * moto keeps the deployment `CreateService` made, with its task definition and a running count of 0;
   * ECS's PRIMARY deployment is the one `UpdateService` started, running what the stand-in runs.
   */
  private reportDeployments(output: DescribeServicesCommandOutput): void {
    for (const service of output.services ?? []) {
      if (service.status !== 'ACTIVE' || !service.serviceArn) continue;
      const running = (this.tasks.get(service.serviceArn) ?? []).filter(
        (task) => task.taskDefinitionArn === service.taskDefinition,
      ).length;
      service.runningCount = running;
      service.pendingCount = Math.max(0, (service.desiredCount ?? 0) - running);
      service.deployments = [
        {
          ...service.deployments?.[0],
          status: 'PRIMARY',
          taskDefinition: service.taskDefinition,
          desiredCount: service.desiredCount,
          runningCount: running,
          pendingCount: service.pendingCount,
        },
      ];
    }
  }

  private async describe(names: string[]): Promise<Service[]> {
    if (!names.length) return [];
    const { services } = await this.moto.admin.ecs.send(
      new DescribeServicesCommand({
        cluster: this.moto.settings.cluster.arn,
        services: names,
        include: ['TAGS'],
      }),
    );
    return services ?? [];
  }

  /** Every service of the stage's cluster, ACTIVE or not, as moto holds it. */
  async services(): Promise<Service[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.moto.admin.ecs.send(
        new ListServicesCommand({ cluster: this.moto.settings.cluster.arn, nextToken }),
      );
      arns.push(...(page.serviceArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const services: Service[] = [];
    for (let start = 0; start < arns.length; start += 10)
      services.push(...(await this.describe(arns.slice(start, start + 10))));
    return services;
  }

  /** Tasks the stand-in runs for a service now. */
  running(serviceArn: string): readonly Task[] {
    return this.tasks.get(serviceArn) ?? [];
  }

  /**
   * One pass of the scheduler: every service runs `desiredCount` tasks of its task definition (older ones
   * stop, their targets deregistered), new tasks are registered in the service's target group, and a service
   * that got there reports its steady state once. Returns how many events it emitted.
   */
  async tick(): Promise<number> {
    let emitted = 0;
    for (const service of await this.services()) {
      const arn = service.serviceArn ?? '';
      const want = service.status === 'ACTIVE' ? (service.desiredCount ?? 0) : 0;
      const current = this.tasks.get(arn) ?? [];
      const keep = current.filter((task) => task.taskDefinitionArn === service.taskDefinition).slice(0, want);
      for (const task of current.filter((task) => !keep.includes(task))) {
        await this.stopTask(task, 'ServiceSchedulerInitiated', 'Scaling activity initiated by deployment');
        emitted++;
      }
      const crash = this.crashing.get(service.serviceName ?? '');
      while (keep.length < want) {
        const task = await this.startTask(service);
        if (crash) {
          await this.stopTask(task, 'EssentialContainerExited', crash);
          emitted++;
          break;
        }
        keep.push(task);
      }
      this.tasks.set(arn, keep);
      const steadyKey = `${arn} ${service.taskDefinition} ${keep.map((task) => task.arn).join(',')}`;
      if (want > 0 && keep.length === want && !this.steadyReported.has(steadyKey)) {
        this.steadyReported.add(steadyKey);
        await this.emit('ECS Service Action', [arn], {
          eventType: 'INFO',
          eventName: 'SERVICE_STEADY_STATE',
          clusterArn: this.moto.settings.cluster.arn,
          createdAt: new Date().toISOString(),
        });
        emitted++;
      }
    }
    return emitted;
  }

  private async startTask(service: Service): Promise<Task> {
    this.serial++;
    const balancer = service.loadBalancers?.[0];
    const task: Task = {
      arn: `${this.moto.settings.cluster.arn.replace(':cluster/', ':task/')}/${randomBytes(16).toString('hex')}`,
      service: service.serviceName ?? '',
      taskDefinitionArn: service.taskDefinition ?? '',
      ip: `10.0.${this.serial % 2}.${10 + (this.serial % 240)}`,
      targetGroupArn: balancer?.targetGroupArn,
      port: balancer?.containerPort,
    };
    if (task.targetGroupArn) {
      await this.moto.admin.elb.send(
        new RegisterTargetsCommand({
          TargetGroupArn: task.targetGroupArn,
          Targets: [{ Id: task.ip, Port: task.port }],
        }),
      );
    }
    return task;
  }

  private async stopTask(task: Task, stopCode: string, stoppedReason: string): Promise<void> {
    if (task.targetGroupArn) {
      try {
        await this.moto.admin.elb.send(
          new DeregisterTargetsCommand({
            TargetGroupArn: task.targetGroupArn,
            Targets: [{ Id: task.ip, Port: task.port }],
          }),
        );
      } catch (error) {
        // The group went first (a teardown): nothing left to deregister from.
        if ((error as Error).name !== 'TargetGroupNotFoundException') throw error;
      }
    }
    await this.emit('ECS Task State Change', [task.arn], {
      clusterArn: this.moto.settings.cluster.arn,
      group: `service:${task.service}`,
      taskArn: task.arn,
      taskDefinitionArn: task.taskDefinitionArn,
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      launchType: 'FARGATE',
      stopCode,
      stoppedReason,
      stoppedAt: new Date().toISOString(),
    });
  }

  /** The target health moto reports for a group. */
  async targetHealth(targetGroupArn: string): Promise<string[]> {
    const { TargetHealthDescriptions } = await this.moto.admin.elb.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
    );
    return (TargetHealthDescriptions ?? []).map((target) => target.TargetHealth?.State ?? '');
  }

  private async emit(detailType: string, resources: string[], detail: unknown): Promise<void> {
    const { FailedEntryCount } = await this.moto.admin.eventbridge.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'aws.ecs', DetailType: detailType, Resources: resources, Detail: JSON.stringify(detail) },
        ],
      }),
    );
    if (FailedEntryCount) throw new Error(`moto refused an ECS event: ${detailType}`);
  }
}
