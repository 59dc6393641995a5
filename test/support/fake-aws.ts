import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandOutput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import {
  ClientException,
  ClusterNotFoundException,
  CreateServiceCommand,
  type CreateServiceCommandInput,
  DeleteServiceCommand,
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  type Failure,
  InvalidParameterException,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  type LoadBalancer,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type Service,
  ServiceNotActiveException,
  ServiceNotFoundException,
  type TaskDefinition,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  type Action,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  type CreateTargetGroupCommandInput,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  DuplicateTargetGroupNameException,
  ElasticLoadBalancingV2Client,
  ListenerNotFoundException,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  OperationNotPermittedException,
  PriorityInUseException,
  ResourceInUseException,
  type Rule,
  type RuleCondition,
  RuleNotFoundException,
  TargetGroupNotFoundException,
  type TargetHealthStateEnum,
  TooManyRulesException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { type AwsCommand, type AwsStub, mockClient } from 'aws-sdk-client-mock';

/**
 * A stateful fake of the parts of ECS, ELBv2, CloudWatch, EventBridge and the tagging API that Matinee's
 * adapters use, behind real SDK clients (their `send` is stubbed with aws-sdk-client-mock). It keeps the
 * rules AWS enforces and the adapters must live with: unique rule priorities, ECS refusing a target group
 * no listener forwards to, the ALB checking only attached target groups, draining services, tag syntax,
 * page sizes. Errors are the SDK's own exception classes, so they carry the names real ones do.
 *
 * Time does not pass by itself: `tick()` plays ECS and the ALB catching up (tasks start or stop to match
 * desired counts, checks pass, drained services and deleted task definitions go), unless `autoTick`.
 */

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const CLUSTER_NAME = 'matinee-test';
const LB_ID = '50dc6c495c0c9188';
const LISTENER_ID = 'f2f7dc8efc522ab2';

export interface FakeAwsOptions {
  /** Run `tick()` after every call: tasks start and pass health checks as soon as they can. */
  autoTick?: boolean;
  /** Most items per page of every list call (default: AWS's own), to exercise pagination. */
  pageSize?: number;
  /** Rules the listener takes besides its default (ALB: 100, adjustable). */
  maxRules?: number;
}

/** What the adapters are configured with to talk to this fake. */
export interface FakeAwsConfig {
  region: string;
  cluster: string;
  vpcId: string;
  listenerArn: string;
  loadBalancerFullName: string;
  busName: string;
}

type Tags = Record<string, string>;
type TaskDefinitionStatus = 'ACTIVE' | 'INACTIVE' | 'DELETE_IN_PROGRESS';

interface FakeTaskDefinition {
  arn: string;
  family: string;
  revision: number;
  status: TaskDefinitionStatus;
  input: RegisterTaskDefinitionCommandInput;
  tags: Tags;
}

interface FakeTask {
  arn: string;
  taskDefinitionArn: string;
  lastStatus: 'RUNNING' | 'STOPPED';
  /** The ALB's view of it once checks run; `unused` is computed when its group is not attached. */
  health: 'initial' | 'healthy' | 'unhealthy';
  stoppedReason?: string;
  stoppedAt?: Date;
}

interface FakeService {
  arn: string;
  name: string;
  status: 'ACTIVE' | 'DRAINING' | 'INACTIVE';
  desiredCount: number;
  /** Newest first: the first is the PRIMARY deployment, others are being replaced. */
  deployments: { id: string; taskDefinition: string }[];
  loadBalancers: LoadBalancer[];
  settings: Omit<CreateServiceCommandInput, 'cluster' | 'serviceName' | 'taskDefinition' | 'desiredCount'>;
  tags: Tags;
  tasks: FakeTask[];
}

interface FakeTargetGroup {
  arn: string;
  name: string;
  input: CreateTargetGroupCommandInput;
  attributes: Tags;
  tags: Tags;
}

interface FakeRule {
  arn: string;
  priority: number;
  conditions: RuleCondition[];
  actions: Action[];
  tags: Tags;
}

/** An error shaped like one the SDK deserializes for a code without a modeled class (ELBv2's ValidationError). */
function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

/**
 * What ELBv2 checks of a rule's conditions: at most 5 values and 5 wildcards (`*`, `?`) per rule, values of at
 * most 128 characters, and an `http-header` condition names its header.
 */
function checkConditions(conditions: RuleCondition[]): void {
  const values = conditions.flatMap(
    (c) =>
      c.HostHeaderConfig?.Values ??
      c.HttpHeaderConfig?.Values ??
      c.SourceIpConfig?.Values ??
      c.PathPatternConfig?.Values ??
      c.Values ??
      [],
  );
  if (values.length > 5) throw awsError('ValidationError', 'A rule can only have five condition values');
  const wildcards = values.join('').replace(/[^*?]/g, '').length;
  if (wildcards > 5) throw awsError('ValidationError', 'A rule can only have five wildcards');
  const long = values.find((value) => value.length > 128);
  if (long) throw awsError('ValidationError', `Condition value '${long}' exceeds 128 characters`);
  for (const condition of conditions)
    if (condition.Field === 'http-header' && !condition.HttpHeaderConfig?.HttpHeaderName)
      throw awsError('ValidationError', 'An http-header condition must name its header');
}

const meta = { $metadata: {} };
const tagPattern = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function invalidTag(tags: Tags): string | undefined {
  const bad = Object.entries(tags).find(([key, value]) => !tagPattern.test(key) || !tagPattern.test(value));
  return bad && `${bad[0]}=${bad[1]}`;
}

function page<T>(items: T[], token: string | undefined, size: number): { items: T[]; next?: string } {
  const start = token ? Number(token) : 0;
  const end = start + size;
  return { items: items.slice(start, end), next: end < items.length ? String(end) : undefined };
}

const hex = (n: number, width = 16) => n.toString(16).padStart(width, '0');

export class FakeAws {
  readonly config: FakeAwsConfig = {
    region: REGION,
    cluster: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${CLUSTER_NAME}`,
    vpcId: 'vpc-0fake',
    listenerArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:listener/app/${CLUSTER_NAME}/${LB_ID}/${LISTENER_ID}`,
    loadBalancerFullName: `app/${CLUSTER_NAME}/${LB_ID}`,
    busName: 'matinee-test',
  };
  readonly clients = {
    ecs: new ECSClient({ region: REGION }),
    elb: new ElasticLoadBalancingV2Client({ region: REGION }),
    cloudwatch: new CloudWatchClient({ region: REGION }),
    eventbridge: new EventBridgeClient({ region: REGION }),
    tagging: new ResourceGroupsTaggingAPIClient({ region: REGION }),
  };

  readonly services = new Map<string, FakeService>();
  taskDefinitions: FakeTaskDefinition[] = [];
  readonly targetGroups = new Map<string, FakeTargetGroup>();
  readonly rules = new Map<string, FakeRule>();
  /** RequestCount the ALB reports for a target group (by name) over any window. */
  readonly requestCounts = new Map<string, number>();
  /** Every entry EventBridge accepted, in order. */
  readonly events: PutEventsRequestEntry[] = [];
  /** Services whose app fails its health checks. */
  readonly failingHealthChecks = new Set<string>();
  autoTick: boolean;

  private readonly log: string[] = [];
  private readonly faults: { call: string; error: Error; times: number }[] = [];
  private crash?: { pattern: RegExp; remaining: number };
  private failingEntries = 0;
  private serial = 0;
  private readonly pageSize?: number;
  private readonly maxRules: number;

  constructor(options: FakeAwsOptions = {}) {
    this.autoTick = options.autoTick ?? false;
    this.pageSize = options.pageSize;
    this.maxRules = options.maxRules ?? 100;
    this.serveEcs();
    this.serveElb();
    this.serveCloudWatch();
    this.serveEventBridge();
    this.serveTagging();
  }

  /** `Service:Command` of every call so far, in order (faulted ones included). */
  calls(): string[] {
    return [...this.log];
  }

  /** The next `times` calls of `call` (`ECS:CreateService`) throw `error` before doing anything. */
  injectFault(call: string, error: Error, times = 1): void {
    this.faults.push({ call, error, times });
  }

  /**
   * The `n`-th call from now (1-based) whose `Service:Command` matches `pattern` takes effect, and then its
   * caller dies before hearing the answer: a Lambda timing out or killed mid-reconcile.
   */
  crashAfter(pattern: RegExp, n: number): void {
    this.crash = { pattern, remaining: n };
  }

  /** Whether a crash asked for with `crashAfter` has yet to happen. */
  get crashPending(): boolean {
    return this.crash !== undefined;
  }

  /** The next `count` PutEvents entries are reported failed (EventBridge's partial failure). */
  failEntries(count: number): void {
    this.failingEntries += count;
  }

  /** Stops the service's running tasks as a crash would; ECS starts replacements on the next tick. */
  crashTasks(serviceName: string, reason: string): void {
    for (const task of this.services.get(serviceName)?.tasks ?? []) {
      if (task.lastStatus === 'RUNNING') this.stop(task, reason);
    }
  }

  /** ECS and the ALB catch up with what was asked. */
  tick(): void {
    for (const service of this.services.values()) {
      if (service.status === 'DRAINING') {
        for (const task of this.running(service)) this.stop(task, 'Service deleted');
        service.status = 'INACTIVE';
        continue;
      }
      if (service.status !== 'ACTIVE') continue;
      const primary = service.deployments[0]?.taskDefinition;
      // minimumHealthyPercent 0: the old revision's tasks go as the new ones come.
      for (const task of this.running(service)) {
        if (task.taskDefinitionArn !== primary) this.stop(task, 'Task replaced by a newer deployment');
      }
      service.deployments = service.deployments.slice(0, 1);
      const running = this.running(service);
      for (const task of running.slice(service.desiredCount))
        this.stop(task, 'Scaling activity initiated by (deployment)');
      const started = new Set<string>();
      for (let i = running.length; i < service.desiredCount && primary; i++) {
        const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${CLUSTER_NAME}/${hex(++this.serial, 32)}`;
        started.add(arn);
        service.tasks.push({
          arn,
          taskDefinitionArn: primary,
          lastStatus: 'RUNNING',
          health: 'initial',
        });
      }
      // The ALB checks targets only in groups a listener rule forwards to.
      const attached = service.loadBalancers.some(
        (lb) => lb.targetGroupArn && this.attached(lb.targetGroupArn),
      );
      if (!attached) continue;
      // A task is RUNNING a tick before its first checks pass, as on AWS: the ALB needs a few intervals.
      for (const task of this.running(service)) {
        if (task.health === 'initial' && !started.has(task.arn))
          task.health = this.failingHealthChecks.has(service.name) ? 'unhealthy' : 'healthy';
      }
    }
    this.taskDefinitions = this.taskDefinitions.filter((td) => td.status !== 'DELETE_IN_PROGRESS');
  }

  /** Resources that still carry a tag `key=value` (what the tagging API would list). */
  tagged(key: string, value: string): string[] {
    return this.taggedResources()
      .filter((resource) => resource.tags[key] === value)
      .map((resource) => resource.arn);
  }

  private serve<TIn extends object, TOut extends { $metadata: object }, TConf, I extends TIn, O extends TOut>(
    stub: AwsStub<TIn, TOut, TConf>,
    service: string,
    command: new (input: I) => AwsCommand<I, O>,
    handle: (input: I) => Omit<O, '$metadata'>,
  ): void {
    const name = `${service}:${command.name.replace(/Command$/, '')}`;
    stub.on(command).callsFake(async (input: I) => {
      this.log.push(name);
      const fault = this.faults.find((f) => f.call === name && f.times > 0);
      if (fault) {
        fault.times--;
        throw fault.error;
      }
      // Stored state never aliases a caller's objects, and callers never get the fake's own.
      // Counted before the call, so calls that fail (a not-found) count too.
      const crashNow = Boolean(this.crash?.pattern.test(name) && --this.crash.remaining === 0);
      if (crashNow) this.crash = undefined;
      const output = structuredClone(handle(structuredClone(input)));
      if (this.autoTick) this.tick();
      if (crashNow) throw new Error(`${name} took effect, then the caller died`);
      return { ...meta, ...output };
    });
  }

  private size(awsDefault: number, asked?: number): number {
    return Math.min(asked ?? awsDefault, this.pageSize ?? awsDefault);
  }

  // ECS

  private running(service: FakeService): FakeTask[] {
    return service.tasks.filter((task) => task.lastStatus === 'RUNNING');
  }

  private stop(task: FakeTask, reason: string): void {
    task.lastStatus = 'STOPPED';
    task.stoppedReason = reason;
    task.stoppedAt = new Date(Date.now() + this.serial++);
  }

  private checkCluster(cluster: string | undefined): void {
    if (cluster !== this.config.cluster && cluster !== CLUSTER_NAME) {
      throw new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: {} });
    }
  }

  private findTaskDefinition(reference: string): FakeTaskDefinition | undefined {
    const byArn = this.taskDefinitions.find(
      (td) => td.arn === reference || `${td.family}:${td.revision}` === reference,
    );
    if (byArn) return byArn;
    return this.taskDefinitions
      .filter((td) => td.family === reference && td.status === 'ACTIVE')
      .sort((a, b) => b.revision - a.revision)[0];
  }

  private taskDefinitionOut(td: FakeTaskDefinition): TaskDefinition {
    const { tags: _tags, ...input } = td.input;
    return { ...input, taskDefinitionArn: td.arn, revision: td.revision, status: td.status };
  }

  private ecsTagsIn(tags: { key?: string; value?: string }[] | undefined): Tags {
    const record = Object.fromEntries((tags ?? []).map((tag) => [tag.key ?? '', tag.value ?? '']));
    const bad = invalidTag(record);
    if (bad) throw new InvalidParameterException({ message: `Invalid tag ${bad}`, $metadata: {} });
    return record;
  }

  private ecsTagsOut(tags: Tags): { key: string; value: string }[] {
    return Object.entries(tags).map(([key, value]) => ({ key, value }));
  }

  private serviceOut(service: FakeService): Service {
    const running = this.running(service);
    return {
      serviceArn: service.arn,
      serviceName: service.name,
      clusterArn: this.config.cluster,
      status: service.status,
      desiredCount: service.desiredCount,
      runningCount: running.length,
      pendingCount: 0,
      taskDefinition: service.deployments[0]?.taskDefinition,
      loadBalancers: service.loadBalancers,
      ...service.settings,
      deployments: service.deployments.map((deployment, index) => ({
        id: deployment.id,
        status: index === 0 ? 'PRIMARY' : 'ACTIVE',
        taskDefinition: deployment.taskDefinition,
        desiredCount: index === 0 ? service.desiredCount : 0,
        runningCount: running.filter((task) => task.taskDefinitionArn === deployment.taskDefinition).length,
      })),
    };
  }

  /** ECS registers targets only into a group some load balancer listener forwards to. */
  private checkLoadBalancers(loadBalancers: LoadBalancer[], taskDefinition: FakeTaskDefinition): void {
    for (const lb of loadBalancers) {
      const group = [...this.targetGroups.values()].find((g) => g.arn === lb.targetGroupArn);
      if (!group || !this.attached(group.arn)) {
        throw new InvalidParameterException({
          message: `The target group with targetGroupArn ${lb.targetGroupArn} does not have an associated load balancer.`,
          $metadata: {},
        });
      }
      const container = taskDefinition.input.containerDefinitions?.find((c) => c.name === lb.containerName);
      if (!container?.portMappings?.some((mapping) => mapping.containerPort === lb.containerPort)) {
        throw new InvalidParameterException({
          message: `The container ${lb.containerName} did not have a container port ${lb.containerPort} defined.`,
          $metadata: {},
        });
      }
    }
  }

  private activeTaskDefinition(reference: string | undefined): FakeTaskDefinition {
    const td = reference ? this.findTaskDefinition(reference) : undefined;
    if (!td) throw new ClientException({ message: 'Unable to describe task definition.', $metadata: {} });
    if (td.status !== 'ACTIVE')
      throw new ClientException({ message: 'TaskDefinition is inactive', $metadata: {} });
    return td;
  }

  private serveEcs(): void {
    const stub = mockClient(this.clients.ecs);

    this.serve(stub, 'ECS', RegisterTaskDefinitionCommand, (input) => {
      const family = input.family ?? '';
      const tags = this.ecsTagsIn(input.tags);
      const revision =
        Math.max(0, ...this.taskDefinitions.filter((td) => td.family === family).map((td) => td.revision)) +
        1;
      const td: FakeTaskDefinition = {
        arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`,
        family,
        revision,
        status: 'ACTIVE',
        input,
        tags,
      };
      this.taskDefinitions.push(td);
      return { taskDefinition: this.taskDefinitionOut(td), tags: this.ecsTagsOut(tags) };
    });

    this.serve(stub, 'ECS', DescribeTaskDefinitionCommand, (input) => {
      const td = this.findTaskDefinition(input.taskDefinition ?? '');
      if (!td) throw new ClientException({ message: 'Unable to describe task definition.', $metadata: {} });
      return {
        taskDefinition: this.taskDefinitionOut(td),
        tags: input.include?.includes('TAGS') ? this.ecsTagsOut(td.tags) : undefined,
      };
    });

    this.serve(stub, 'ECS', ListTaskDefinitionsCommand, (input) => {
      // Filtered by prefix here, the stricter reading of `familyPrefix`: callers check the family.
      const matching = this.taskDefinitions
        .filter((td) => !input.familyPrefix || td.family.startsWith(input.familyPrefix))
        .filter((td) => td.status === (input.status ?? 'ACTIVE'))
        .sort((a, b) => a.family.localeCompare(b.family) || a.revision - b.revision)
        .map((td) => td.arn);
      const { items, next } = page(matching, input.nextToken, this.size(100, input.maxResults));
      return { taskDefinitionArns: items, nextToken: next };
    });

    this.serve(stub, 'ECS', DeregisterTaskDefinitionCommand, (input) => {
      const td = this.findTaskDefinition(input.taskDefinition ?? '');
      if (!td)
        throw new ClientException({
          message: 'The specified task definition does not exist.',
          $metadata: {},
        });
      if (td.status === 'ACTIVE') td.status = 'INACTIVE';
      return { taskDefinition: this.taskDefinitionOut(td) };
    });

    this.serve(stub, 'ECS', DeleteTaskDefinitionsCommand, (input) => {
      const arns = input.taskDefinitions ?? [];
      if (arns.length > 10) {
        throw new InvalidParameterException({
          message: 'At most 10 task definitions per call.',
          $metadata: {},
        });
      }
      const deleted: TaskDefinition[] = [];
      const failures: Failure[] = [];
      for (const arn of arns) {
        const td = this.findTaskDefinition(arn);
        if (td?.status === 'INACTIVE' || td?.status === 'DELETE_IN_PROGRESS') {
          td.status = 'DELETE_IN_PROGRESS';
          deleted.push(this.taskDefinitionOut(td));
        } else {
          failures.push({
            arn,
            reason: td ? 'The specified task definition is still in ACTIVE status.' : 'MISSING',
          });
        }
      }
      return { taskDefinitions: deleted, failures };
    });

    this.serve(stub, 'ECS', CreateServiceCommand, (input) => {
      this.checkCluster(input.cluster);
      const name = input.serviceName ?? '';
      const existing = this.services.get(name);
      if (existing?.status === 'DRAINING') {
        throw new InvalidParameterException({
          message: 'Unable to Start a service that is still Draining.',
          $metadata: {},
        });
      }
      if (existing?.status === 'ACTIVE') {
        const same =
          existing.deployments[0]?.taskDefinition === input.taskDefinition &&
          existing.desiredCount === input.desiredCount;
        if (same) return { service: this.serviceOut(existing) };
        throw new InvalidParameterException({
          message: 'Creation of service was not idempotent.',
          $metadata: {},
        });
      }
      if (!input.capacityProviderStrategy?.length && !input.launchType) {
        throw new InvalidParameterException({
          message: 'A launch type or capacity provider strategy is required.',
          $metadata: {},
        });
      }
      const td = this.activeTaskDefinition(input.taskDefinition);
      const loadBalancers = input.loadBalancers ?? [];
      this.checkLoadBalancers(loadBalancers, td);
      const tags = this.ecsTagsIn(input.tags);
      const {
        cluster: _c,
        serviceName: _n,
        taskDefinition: _t,
        desiredCount: _d,
        tags: _g,
        ...settings
      } = input;
      const service: FakeService = {
        arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER_NAME}/${name}`,
        name,
        status: 'ACTIVE',
        desiredCount: input.desiredCount ?? 0,
        deployments: [{ id: `ecs-svc/${hex(++this.serial)}`, taskDefinition: td.arn }],
        loadBalancers,
        settings,
        tags,
        tasks: existing?.tasks ?? [],
      };
      this.services.set(name, service);
      return { service: this.serviceOut(service) };
    });

    this.serve(stub, 'ECS', UpdateServiceCommand, (input) => {
      this.checkCluster(input.cluster);
      const service = this.services.get(input.service ?? '');
      if (!service) throw new ServiceNotFoundException({ message: 'Service not found.', $metadata: {} });
      if (service.status !== 'ACTIVE')
        throw new ServiceNotActiveException({ message: 'Service was not ACTIVE.', $metadata: {} });
      const td = input.taskDefinition
        ? this.activeTaskDefinition(input.taskDefinition)
        : this.findTaskDefinition(service.deployments[0]?.taskDefinition ?? '');
      if (input.loadBalancers && td) this.checkLoadBalancers(input.loadBalancers, td);
      if (td && td.arn !== service.deployments[0]?.taskDefinition) {
        service.deployments.unshift({ id: `ecs-svc/${hex(++this.serial)}`, taskDefinition: td.arn });
      }
      if (input.desiredCount !== undefined) service.desiredCount = input.desiredCount;
      if (input.loadBalancers) service.loadBalancers = input.loadBalancers;
      const {
        cluster: _c,
        service: _s,
        taskDefinition: _t,
        desiredCount: _d,
        loadBalancers: _l,
        ...settings
      } = input;
      service.settings = {
        ...service.settings,
        ...Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)),
      };
      return { service: this.serviceOut(service) };
    });

    this.serve(stub, 'ECS', DescribeServicesCommand, (input) => {
      this.checkCluster(input.cluster);
      const found = (input.services ?? []).map((name) => ({ name, service: this.services.get(name) }));
      return {
        services: found.flatMap(({ service }) =>
          service
            ? [
                {
                  ...this.serviceOut(service),
                  tags: input.include?.includes('TAGS') ? this.ecsTagsOut(service.tags) : undefined,
                },
              ]
            : [],
        ),
        failures: found
          .filter(({ service }) => !service)
          .map(({ name }) => ({
            arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER_NAME}/${name}`,
            reason: 'MISSING',
          })),
      };
    });

    this.serve(stub, 'ECS', DeleteServiceCommand, (input) => {
      this.checkCluster(input.cluster);
      const service = this.services.get(input.service ?? '');
      if (!service || service.status === 'INACTIVE')
        throw new ServiceNotFoundException({ message: 'Service not found.', $metadata: {} });
      if (service.status === 'DRAINING')
        throw new ServiceNotActiveException({ message: 'Service was not ACTIVE.', $metadata: {} });
      if (service.desiredCount > 0 && !input.force) {
        throw new InvalidParameterException({
          message: 'The service cannot be stopped while it is scaled above 0.',
          $metadata: {},
        });
      }
      service.status = 'DRAINING';
      service.desiredCount = 0;
      return { service: this.serviceOut(service) };
    });

    this.serve(stub, 'ECS', ListTasksCommand, (input) => {
      this.checkCluster(input.cluster);
      const tasks = this.services.get(input.serviceName ?? '')?.tasks ?? [];
      const status = input.desiredStatus ?? 'RUNNING';
      const arns = tasks.filter((task) => task.lastStatus === status).map((task) => task.arn);
      const { items, next } = page(arns, input.nextToken, this.size(100, input.maxResults));
      return { taskArns: items, nextToken: next };
    });

    this.serve(stub, 'ECS', DescribeTasksCommand, (input) => {
      this.checkCluster(input.cluster);
      const all = [...this.services.values()].flatMap((service) => service.tasks);
      return {
        tasks: all
          .filter((task) => input.tasks?.includes(task.arn))
          .map((task) => ({
            taskArn: task.arn,
            taskDefinitionArn: task.taskDefinitionArn,
            lastStatus: task.lastStatus,
            desiredStatus: task.lastStatus,
            stoppedReason: task.stoppedReason,
            stoppedAt: task.stoppedAt,
          })),
        failures: [],
      };
    });
  }

  // ELBv2

  /** Whether some rule of the listener forwards to the group (the ALB then checks its targets). */
  private attached(targetGroupArn: string): boolean {
    return [...this.rules.values()].some((rule) =>
      rule.actions.some((action) => action.TargetGroupArn === targetGroupArn),
    );
  }

  private groupByArn(arn: string | undefined): FakeTargetGroup {
    const group = [...this.targetGroups.values()].find((g) => g.arn === arn);
    if (!group)
      throw new TargetGroupNotFoundException({ message: `Target groups '${arn}' not found`, $metadata: {} });
    return group;
  }

  private elbTagsIn(tags: { Key?: string; Value?: string }[] | undefined): Tags {
    const record = Object.fromEntries((tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
    const bad = invalidTag(record);
    if (bad) throw awsError('ValidationError', `Tag ${bad} does not satisfy the tag pattern`);
    return record;
  }

  private ruleOut(rule: FakeRule): Rule {
    return {
      RuleArn: rule.arn,
      Priority: String(rule.priority),
      Conditions: rule.conditions,
      Actions: rule.actions,
      IsDefault: false,
    };
  }

  private checkListener(listenerArn: string | undefined): void {
    if (listenerArn !== this.config.listenerArn) {
      throw new ListenerNotFoundException({ message: 'One or more listeners not found', $metadata: {} });
    }
  }

  private serveElb(): void {
    const stub = mockClient(this.clients.elb);
    const healthSettings = (input: CreateTargetGroupCommandInput) =>
      JSON.stringify([
        input.Protocol,
        input.Port,
        input.VpcId,
        input.TargetType,
        input.HealthCheckPath,
        input.HealthCheckIntervalSeconds,
        input.HealthCheckTimeoutSeconds,
        input.HealthyThresholdCount,
        input.UnhealthyThresholdCount,
        input.Matcher,
      ]);

    this.serve(stub, 'ELB', CreateTargetGroupCommand, (input) => {
      const name = input.Name ?? '';
      if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(name)) {
        throw awsError('ValidationError', `Target group name '${name}' is not valid`);
      }
      const tags = this.elbTagsIn(input.Tags);
      const existing = this.targetGroups.get(name);
      if (existing) {
        // AWS answers a repeated identical create with the existing group.
        if (healthSettings(existing.input) === healthSettings(input))
          return { TargetGroups: [{ TargetGroupArn: existing.arn, TargetGroupName: name }] };
        throw new DuplicateTargetGroupNameException({
          message: 'A target group with the same name exists',
          $metadata: {},
        });
      }
      const group: FakeTargetGroup = {
        arn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/${name}/${hex(++this.serial)}`,
        name,
        input,
        attributes: { 'deregistration_delay.timeout_seconds': '300' },
        tags,
      };
      this.targetGroups.set(name, group);
      return { TargetGroups: [{ TargetGroupArn: group.arn, TargetGroupName: name }] };
    });

    this.serve(stub, 'ELB', DescribeTargetGroupsCommand, (input) => {
      const groups = input.Names
        ? input.Names.map((name) => {
            const group = this.targetGroups.get(name);
            if (!group)
              throw new TargetGroupNotFoundException({
                message: `Target groups '${name}' not found`,
                $metadata: {},
              });
            return group;
          })
        : input.TargetGroupArns
          ? input.TargetGroupArns.map((arn) => this.groupByArn(arn))
          : [...this.targetGroups.values()];
      return {
        TargetGroups: groups.map((group) => ({
          TargetGroupArn: group.arn,
          TargetGroupName: group.name,
          Protocol: group.input.Protocol,
          Port: group.input.Port,
          VpcId: group.input.VpcId,
          TargetType: group.input.TargetType,
          // AWS fills in its defaults for what the create left out.
          HealthCheckEnabled: group.input.HealthCheckEnabled ?? true,
          HealthCheckProtocol: group.input.HealthCheckProtocol ?? 'HTTP',
          HealthCheckPort: group.input.HealthCheckPort ?? 'traffic-port',
          HealthCheckPath: group.input.HealthCheckPath ?? '/',
          HealthCheckIntervalSeconds: group.input.HealthCheckIntervalSeconds ?? 30,
          HealthCheckTimeoutSeconds: group.input.HealthCheckTimeoutSeconds ?? 5,
          HealthyThresholdCount: group.input.HealthyThresholdCount ?? 5,
          UnhealthyThresholdCount: group.input.UnhealthyThresholdCount ?? 2,
          Matcher: group.input.Matcher ?? { HttpCode: '200' },
        })),
      };
    });

    this.serve(stub, 'ELB', DescribeTagsCommand, (input) => ({
      TagDescriptions: (input.ResourceArns ?? []).map((arn) => {
        const owner = [...this.targetGroups.values(), ...this.rules.values()].find((r) => r.arn === arn);
        return {
          ResourceArn: arn,
          Tags: Object.entries(owner?.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
        };
      }),
    }));

    this.serve(stub, 'ELB', ModifyTargetGroupCommand, (input) => {
      const group = this.groupByArn(input.TargetGroupArn);
      const { TargetGroupArn: _arn, ...changes } = input;
      group.input = {
        ...group.input,
        ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)),
      };
      return { TargetGroups: [{ TargetGroupArn: group.arn }] };
    });

    this.serve(stub, 'ELB', ModifyTargetGroupAttributesCommand, (input) => {
      const group = this.groupByArn(input.TargetGroupArn);
      for (const attribute of input.Attributes ?? []) {
        if (attribute.Key) group.attributes[attribute.Key] = attribute.Value ?? '';
      }
      return { Attributes: Object.entries(group.attributes).map(([Key, Value]) => ({ Key, Value })) };
    });

    this.serve(stub, 'ELB', DeleteTargetGroupCommand, (input) => {
      const group = [...this.targetGroups.values()].find((g) => g.arn === input.TargetGroupArn);
      if (!group) return {};
      if (this.attached(group.arn)) {
        throw new ResourceInUseException({
          message: `Target group '${group.arn}' is currently in use by a listener or a rule`,
          $metadata: {},
        });
      }
      this.targetGroups.delete(group.name);
      return {};
    });

    this.serve(stub, 'ELB', DescribeRulesCommand, (input) => {
      if (input.RuleArns) {
        return {
          Rules: input.RuleArns.map((arn) => {
            const rule = this.rules.get(arn);
            if (!rule)
              throw new RuleNotFoundException({ message: 'One or more rules not found', $metadata: {} });
            return this.ruleOut(rule);
          }),
        };
      }
      this.checkListener(input.ListenerArn);
      if ((input.PageSize ?? 0) > 400) throw awsError('ValidationError', 'PageSize must be at most 400');
      const all: Rule[] = [
        ...[...this.rules.values()].sort((a, b) => a.priority - b.priority).map((rule) => this.ruleOut(rule)),
        {
          RuleArn: `${this.config.listenerArn.replace(':listener/', ':listener-rule/')}/default`,
          Priority: 'default',
          IsDefault: true,
          Conditions: [],
          Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503' } }],
        },
      ];
      const { items, next } = page(all, input.Marker, this.size(400, input.PageSize));
      return { Rules: items, NextMarker: next };
    });

    this.serve(stub, 'ELB', CreateRuleCommand, (input) => {
      this.checkListener(input.ListenerArn);
      const priority = input.Priority ?? 0;
      if (!Number.isInteger(priority) || priority < 1 || priority > 50_000) {
        throw awsError('ValidationError', `Priority ${priority} is not between 1 and 50000`);
      }
      if ([...this.rules.values()].some((rule) => rule.priority === priority)) {
        throw new PriorityInUseException({
          message: `Priority '${priority}' is currently in use`,
          $metadata: {},
        });
      }
      if (this.rules.size >= this.maxRules)
        throw new TooManyRulesException({ message: 'Too many rules', $metadata: {} });
      for (const action of input.Actions ?? [])
        if (action.TargetGroupArn) this.groupByArn(action.TargetGroupArn);
      checkConditions(input.Conditions ?? []);
      const tags = this.elbTagsIn(input.Tags);
      const rule: FakeRule = {
        arn: `${this.config.listenerArn.replace(':listener/', ':listener-rule/')}/${hex(++this.serial)}`,
        priority,
        conditions: input.Conditions ?? [],
        actions: input.Actions ?? [],
        tags,
      };
      this.rules.set(rule.arn, rule);
      return { Rules: [this.ruleOut(rule)] };
    });

    this.serve(stub, 'ELB', ModifyRuleCommand, (input) => {
      const rule = this.rules.get(input.RuleArn ?? '');
      if (!rule) throw new RuleNotFoundException({ message: 'One or more rules not found', $metadata: {} });
      for (const action of input.Actions ?? [])
        if (action.TargetGroupArn) this.groupByArn(action.TargetGroupArn);
      if (input.Conditions) checkConditions(input.Conditions);
      if (input.Conditions) rule.conditions = input.Conditions;
      if (input.Actions) rule.actions = input.Actions;
      return { Rules: [this.ruleOut(rule)] };
    });

    this.serve(stub, 'ELB', DeleteRuleCommand, (input) => {
      if (input.RuleArn?.endsWith('/default')) {
        throw new OperationNotPermittedException({
          message: 'Default rules cannot be deleted',
          $metadata: {},
        });
      }
      if (!this.rules.delete(input.RuleArn ?? '')) {
        throw new RuleNotFoundException({ message: 'One or more rules not found', $metadata: {} });
      }
      return {};
    });

    this.serve(stub, 'ELB', DescribeTargetHealthCommand, (input) => {
      const group = this.groupByArn(input.TargetGroupArn);
      const attached = this.attached(group.arn);
      const targets = [...this.services.values()]
        .filter((service) => service.status !== 'INACTIVE')
        .filter((service) => service.loadBalancers.some((lb) => lb.targetGroupArn === group.arn))
        .flatMap((service) => this.running(service));
      return {
        TargetHealthDescriptions: targets.map((task, index) => {
          const State: TargetHealthStateEnum = attached ? task.health : 'unused';
          return {
            Target: { Id: `10.0.0.${index + 10}`, Port: group.input.Port },
            TargetHealth: { State, Reason: attached ? undefined : 'Target.NotInUse' },
          };
        }),
      };
    });
  }

  // CloudWatch

  private serveCloudWatch(): void {
    const stub = mockClient(this.clients.cloudwatch);
    this.serve(
      stub,
      'CloudWatch',
      GetMetricDataCommand,
      (input): Omit<GetMetricDataCommandOutput, '$metadata'> => {
        const queries = input.MetricDataQueries ?? [];
        if (queries.length > 500)
          throw awsError('ValidationError', 'At most 500 metric data queries per call');
        const results: MetricDataResult[] = queries.map((query) => {
          if (!/^[a-z][a-zA-Z0-9_]*$/.test(query.Id ?? ''))
            throw awsError('ValidationError', `Invalid query id ${query.Id}`);
          const stat = query.MetricStat;
          if (!stat?.Period || (stat.Period >= 60 && stat.Period % 60 !== 0)) {
            throw awsError('ValidationError', `Period ${stat?.Period} must be a multiple of 60`);
          }
          const dimension = (name: string) => stat.Metric?.Dimensions?.find((d) => d.Name === name)?.Value;
          const group = [...this.targetGroups.values()].find((g) =>
            g.arn.endsWith(`:${dimension('TargetGroup')}`),
          );
          const count =
            stat.Metric?.Namespace === 'AWS/ApplicationELB' &&
            stat.Metric.MetricName === 'RequestCount' &&
            dimension('LoadBalancer') === this.config.loadBalancerFullName &&
            group
              ? this.requestCounts.get(group.name)
              : undefined;
          return {
            Id: query.Id,
            StatusCode: 'Complete',
            Values: count ? [count] : [],
            Timestamps: count && input.StartTime ? [input.StartTime] : [],
          };
        });
        const { items, next } = page(results, input.NextToken, this.size(500));
        return { MetricDataResults: items, NextToken: next };
      },
    );
  }

  // EventBridge

  private serveEventBridge(): void {
    const stub = mockClient(this.clients.eventbridge);
    this.serve(stub, 'EventBridge', PutEventsCommand, (input) => {
      const entries = input.Entries ?? [];
      if (entries.length === 0 || entries.length > 10)
        throw awsError('ValidationException', 'PutEvents takes 1 to 10 entries');
      let failed = 0;
      const results = entries.map((entry) => {
        if (this.failingEntries > 0) {
          this.failingEntries--;
          failed++;
          return { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal failure' };
        }
        this.events.push(entry);
        return { EventId: `event-${++this.serial}` };
      });
      return { FailedEntryCount: failed, Entries: results };
    });
  }

  // Resource Groups Tagging API

  private taggedResources(): { arn: string; type: string; tags: Tags }[] {
    return [
      ...[...this.services.values()]
        .filter((service) => service.status !== 'INACTIVE')
        .map((service) => ({ arn: service.arn, type: 'ecs:service', tags: service.tags })),
      // Deregistered task definitions stay (and stay tagged) until deleted.
      ...this.taskDefinitions.map((td) => ({ arn: td.arn, type: 'ecs:task-definition', tags: td.tags })),
      ...[...this.targetGroups.values()].map((g) => ({
        arn: g.arn,
        type: 'elasticloadbalancing:targetgroup',
        tags: g.tags,
      })),
      ...[...this.rules.values()].map((r) => ({
        arn: r.arn,
        type: 'elasticloadbalancing:listener-rule',
        tags: r.tags,
      })),
    ];
  }

  private serveTagging(): void {
    const stub = mockClient(this.clients.tagging);
    this.serve(stub, 'Tagging', GetResourcesCommand, (input) => {
      const matching = this.taggedResources()
        .filter((resource) => !input.ResourceTypeFilters || input.ResourceTypeFilters.includes(resource.type))
        .filter((resource) =>
          (input.TagFilters ?? []).every((filter) => {
            const value = filter.Key ? resource.tags[filter.Key] : undefined;
            return value !== undefined && (!filter.Values?.length || filter.Values.includes(value));
          }),
        );
      const { items, next } = page(
        matching,
        input.PaginationToken || undefined,
        this.size(100, input.ResourcesPerPage),
      );
      return {
        ResourceTagMappingList: items.map((resource) => ({
          ResourceARN: resource.arn,
          Tags: Object.entries(resource.tags).map(([Key, Value]) => ({ Key, Value })),
        })),
        // The tagging API ends with an empty token.
        PaginationToken: next ?? '',
      };
    });
  }
}

/** A fresh fake AWS: `.clients` to hand the adapters, `.config` to configure them, and its state. */
export function fakeAws(options: FakeAwsOptions = {}): FakeAws {
  return new FakeAws(options);
}
