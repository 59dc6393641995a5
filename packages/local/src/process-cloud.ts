import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Activity,
  cookieAdmits,
  type EnvironmentRef,
  type HealthCheckState,
  type Inventory,
  type OwnedResource,
  type Router,
  type RuleAccess,
  type Runtime,
  type ServiceState,
  type TargetHealth,
  type TaskEvent,
  type TaskSpec,
  UserError,
} from '@matinee/core';
import { freePort, killGroup, killTaskNow, spawnAppProcess, spawnSeed } from './app-process.ts';
import { removeContainers, startContainers } from './docker-runtime.ts';
import { logFileName } from './file-logs.ts';
import { watchHealth } from './health-check.ts';
import type { Revision, Task } from './local-task.ts';
import { identify, type RunningPreview } from './preview-registry.ts';
import { RequestCount } from './request-count.ts';

export interface ProcessCloudOptions {
  /** Where each environment's output goes, one file per service. */
  logDir: string;
  /** Working directory of app commands whose config gives none. */
  defaultCwd: string;
  /**
   * The environment every app and seed starts from, before the config's variables and PORT: what a
   * process needs to run (PATH, HOME, …), not Matinee's own variables or credentials.
   */
  baseEnv: Record<string, string>;
  /** SIGTERM, then SIGKILL after this long. */
  stopGraceMs?: number;
  healthIntervalMs?: number;
  /** A healthy app is checked this often; this many failed checks in a row replace it, as the ALB and ECS do. */
  healthyIntervalMs?: number;
  unhealthyThreshold?: number;
  /** An app not healthy this long after it started is stopped and counted as a failed start. */
  startTimeoutMs?: number;
  /**
   * A Docker engine answered: a config without `local.command` runs its images as containers (the app and
   * its sidecars sharing one network, as in a Fargate task). `docker` is found on `baseEnv`'s PATH.
   */
  docker?: boolean;
  /** Told when a task becomes healthy or stops on its own, as ECS task events are on AWS. */
  onTaskEvent?: (event: TaskEvent) => void;
  /**
   * Told every process group and container that runs, each time that changes: a task's until its process
   * has exited (not merely until a stop began), so that whatever Matinee leaves behind is on record.
   */
  onPreviewsChanged?: (previews: RunningPreview[]) => void;
}

/** A task's id, as ECS's task ARN: unique across restarts, since the crashes it counts are stored. */
function taskId(service: { name: string }): string {
  return `local:task/${service.name}/${randomUUID()}`;
}

interface Service {
  name: string;
  arn: string;
  desiredCount: number;
  taskDefinitionArn: string;
  targetGroupArn: string;
  tags: Record<string, string>;
  task?: Task;
  /** Set while a task is being started (a port chosen): a second start must not race the first. */
  starting?: boolean;
  /** Consecutive stops on its own; restarts back off with it. */
  crashes: number;
  restart?: NodeJS.Timeout;
}

/**
 * The runtime, router, activity and inventory ports on one machine: an environment's app is a local
 * process (its `local.command`, see app-process.ts) or its containers (docker-runtime.ts), its "target
 * group" the app's port, its "host rule" an entry in the routing table the HTTP router reads. This class
 * keeps the services and runs each task's life: start, health (health-check.ts), restart with back-off,
 * stop. Processes run in their own process group so a stop reaches whatever `sh -c` started.
 */
export class ProcessCloud implements Runtime, Router, Activity, Inventory {
  private readonly revisions = new Map<string, Revision[]>();
  private readonly services = new Map<string, Service>();
  private readonly targetGroups = new Map<
    string,
    { arn: string; healthPath: string; tags: Record<string, string> }
  >();
  private readonly rules = new Map<
    string,
    { arn: string; targetGroupArn: string; tags: Record<string, string>; access?: RuleAccess }
  >();
  private readonly requests = new RequestCount();
  /** Every task whose process has not exited yet, with its service's name: what `onPreviewsChanged` hears. */
  private readonly live = new Map<Task, string>();
  private serial = 0;

  constructor(private readonly options: ProcessCloudOptions) {
    mkdirSync(options.logDir, { recursive: true });
  }

  // ── Runtime ────────────────────────────────────────────────────────────────

  async describe(ref: EnvironmentRef): Promise<
    { service?: ServiceState; revisions: number } & {
      targetGroupArn?: string;
      ruleArn?: string;
      health: TargetHealth;
      access?: RuleAccess;
      healthCheck?: HealthCheckState;
    }
  > {
    const service = this.services.get(ref.names.service);
    const group = this.targetGroups.get(ref.names.targetGroup);
    const revisions = this.revisions.get(ref.names.family) ?? [];
    const task = service?.task;
    return {
      service: service && {
        serviceArn: service.arn,
        desiredCount: service.desiredCount,
        runningCount: task?.healthy ? 1 : 0,
        taskDefinitionArn: service.taskDefinitionArn,
        revision: revisions.find((r) => r.arn === service.taskDefinitionArn)?.spec.revision,
      },
      revisions: revisions.length,
      targetGroupArn: group?.arn,
      ruleArn: this.rules.get(ref.host)?.arn,
      access: this.rules.get(ref.host)?.access,
      health: !task ? 'none' : task.healthy ? 'healthy' : 'initial',
      healthCheck: group && { path: group.healthPath, standard: true },
    };
  }

  async registerRevision(ref: EnvironmentRef, spec: TaskSpec) {
    const revisions = this.revisions.get(ref.names.family) ?? [];
    const existing = revisions.find((r) => r.spec.revision === spec.revision);
    if (existing) return { taskDefinitionArn: existing.arn };
    if (!spec.local && !this.options.docker) {
      throw new UserError(
        '.matinee.yml has no `local.command`, and no Docker engine answered to run its images: give the app a `local.command`, or start Docker',
      );
    }
    const arn = `local:task-definition/${ref.names.family}:${revisions.length + 1}`;
    this.revisions.set(ref.names.family, [...revisions, { arn, spec, tags: ref.tags }]);
    return { taskDefinitionArn: arn };
  }

  async ensureService(
    ref: EnvironmentRef,
    input: { taskDefinitionArn: string; targetGroupArn: string; desiredCount: number },
  ) {
    const existing = this.services.get(ref.names.service);
    const service: Service = existing ?? {
      name: ref.names.service,
      arn: `local:service/${ref.names.service}`,
      desiredCount: 0,
      taskDefinitionArn: input.taskDefinitionArn,
      targetGroupArn: input.targetGroupArn,
      tags: ref.tags,
      crashes: 0,
    };
    const changed = service.taskDefinitionArn !== input.taskDefinitionArn;
    Object.assign(service, {
      taskDefinitionArn: input.taskDefinitionArn,
      targetGroupArn: input.targetGroupArn,
    });
    if (changed) service.crashes = 0;
    this.services.set(service.name, service);
    if (changed && service.task) await this.stopTask(service);
    await this.scale(service, input.desiredCount);
    return { serviceArn: service.arn };
  }

  async scaleService(ref: EnvironmentRef, desiredCount: number) {
    const service = this.services.get(ref.names.service);
    if (service) await this.scale(service, desiredCount);
  }

  async deleteService(ref: EnvironmentRef) {
    const service = this.services.get(ref.names.service);
    if (!service) return;
    await this.scale(service, 0);
    this.services.delete(service.name);
  }

  async deregisterRevisions(ref: EnvironmentRef) {
    this.revisions.delete(ref.names.family);
  }

  // ── Router ─────────────────────────────────────────────────────────────────

  async ensureTargetGroup(ref: EnvironmentRef, input: { port: number; healthPath: string }) {
    const group = this.targetGroups.get(ref.names.targetGroup) ?? {
      arn: `local:targetgroup/${ref.names.targetGroup}`,
      healthPath: input.healthPath,
      tags: ref.tags,
    };
    this.targetGroups.set(ref.names.targetGroup, group);
    return { targetGroupArn: group.arn };
  }

  /** The path the next task's health checks request. */
  async updateTargetGroup(ref: EnvironmentRef, _arn: string, input: { port: number; healthPath: string }) {
    const group = this.targetGroups.get(ref.names.targetGroup);
    if (group) group.healthPath = input.healthPath;
  }

  async ensureRule(ref: EnvironmentRef, targetGroupArn: string, access?: RuleAccess) {
    const rule = this.rules.get(ref.host) ?? {
      arn: `local:rule/${ref.host}/${++this.serial}`,
      targetGroupArn,
      tags: ref.tags,
    };
    this.rules.set(ref.host, { ...rule, access });
    return { ruleArn: rule.arn };
  }

  async removeRule(ref: EnvironmentRef) {
    this.rules.delete(ref.host);
  }

  async deleteTargetGroup(ref: EnvironmentRef) {
    this.targetGroups.delete(ref.names.targetGroup);
  }

  /**
   * Where a request for `host` goes: the port of a healthy process behind a host rule, or nowhere. A private
   * preview's rule forwards only a request whose `cookie` header carries its cookie, as the ALB's cookie
   * condition does; everything else goes where the ALB's default action would, the wake path.
   */
  route(host: string, cookie?: string): number | undefined {
    const rule = this.rules.get(host);
    if (!rule) return undefined;
    if (rule.access && !cookieAdmits(rule.access, cookie)) return undefined;
    for (const service of this.services.values()) {
      if (service.targetGroupArn === rule.targetGroupArn && service.task?.healthy) return service.task.port;
    }
    return undefined;
  }

  // ── Activity and inventory ────────────────────────────────────────────────

  /** The router counts each request it proxies to an app (see RequestCount). */
  countRequest(host: string, at = Date.now()): void {
    this.requests.add(host, at);
  }

  async requestActivity(refs: EnvironmentRef[], since: Date, until: Date) {
    return this.requests.within(refs, since, until);
  }

  async listOwned(): Promise<OwnedResource[]> {
    const owned = (
      kind: OwnedResource['kind'],
      arn: string,
      tags: Record<string, string>,
    ): OwnedResource[] => {
      const environmentId = tags['matinee:environment'];
      const host = tags['matinee:host'];
      return environmentId && host ? [{ kind, arn, environmentId, host }] : [];
    };
    return [
      ...[...this.services.values()].flatMap((s) => owned('service', s.arn, s.tags)),
      ...[...this.revisions.values()].flat().flatMap((r) => owned('task-definition', r.arn, r.tags)),
      ...[...this.targetGroups.values()].flatMap((g) => owned('target-group', g.arn, g.tags)),
      ...[...this.rules.values()].flatMap((r) => owned('rule', r.arn, r.tags)),
    ];
  }

  /** Running processes, by service name (for the dashboard and tests). */
  processes(): { service: string; pid?: number; port: number; healthy: boolean }[] {
    return [...this.services.values()].flatMap((s) =>
      s.task ? [{ service: s.name, pid: s.task.child.pid, port: s.task.port, healthy: s.task.healthy }] : [],
    );
  }

  /** Stops every process: nothing is left behind when Matinee exits. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.services.values()].map((service) => this.scale(service, 0)));
  }

  /**
   * SIGKILLs every process group at once, synchronously: for an exit that cannot wait for a graceful
   * shutdown (an uncaught error), so that no app outlives Matinee.
   */
  killAllNow(): void {
    for (const service of this.services.values()) {
      service.desiredCount = 0;
      clearTimeout(service.restart);
      if (service.task) {
        service.task.stopping = true;
        killTaskNow(service.task, this.options.baseEnv);
      }
    }
  }

  // ── Processes ──────────────────────────────────────────────────────────────

  private recordPreviews(): void {
    this.options.onPreviewsChanged?.(
      [...this.live].flatMap(([task, service]) =>
        task.identity
          ? [
              {
                service,
                port: task.port,
                group: task.identity,
                seed: task.seed ? task.seedIdentity : undefined,
                containers: task.containers,
              },
            ]
          : [],
      ),
    );
  }

  private async scale(service: Service, desiredCount: number): Promise<void> {
    service.desiredCount = desiredCount;
    if (desiredCount === 0) {
      clearTimeout(service.restart);
      service.restart = undefined;
      if (service.task) await this.stopTask(service);
    } else if (!service.task && !service.restart && !service.starting) {
      await this.startTask(service);
    }
  }

  private revisionOf(service: Service): Revision | undefined {
    for (const revisions of this.revisions.values()) {
      const found = revisions.find((r) => r.arn === service.taskDefinitionArn);
      if (found) return found;
    }
    return undefined;
  }

  private async startTask(service: Service): Promise<void> {
    const revision = this.revisionOf(service);
    if (!revision || (!revision.spec.local && !this.options.docker))
      throw new Error(`no runnable revision for ${service.name}`);
    service.starting = true;
    let launched: { child: ChildProcess; port: number; containers?: string[] } | undefined;
    try {
      const port = await freePort();
      // Scaled down, replaced or deleted meanwhile: starting now would leave an orphan.
      const stale = () =>
        service.desiredCount === 0 || service.task || this.services.get(service.name) !== service;
      if (stale() || service.taskDefinitionArn !== revision.arn) return;
      launched = revision.spec.local
        ? { child: spawnAppProcess(revision.spec, revision.spec.local, port, this.options), port }
        : await startContainers(
            { service: service.name, serial: ++this.serial, revision, port },
            this.options.baseEnv,
          );
      if (stale()) return killTaskNow(launched, this.options.baseEnv);
    } catch (error) {
      // A container that would not start (an image that cannot be pulled): a task that failed to start.
      this.stoppedOnItsOwn(
        service,
        taskId(service),
        'TaskFailedToStart',
        error instanceof Error ? error.message : String(error),
      );
      return;
    } finally {
      service.starting = false;
      if (
        !launched &&
        service.taskDefinitionArn !== revision.arn &&
        service.desiredCount > 0 &&
        !service.task
      )
        void this.startTask(service).catch(() => {});
    }
    const { child, port, containers } = launched;
    const log = createWriteStream(join(this.options.logDir, logFileName(service.name)), { flags: 'a' });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const task: Task = {
      arn: taskId(service),
      child,
      port,
      healthy: false,
      stopping: false,
      containers,
      identity: identify(child.pid),
    };
    service.task = task;
    this.live.set(task, service.name);
    this.recordPreviews();
    child.on('exit', (code, signal) => {
      log.end();
      clearInterval(task.timer);
      // Whatever the app started in the background goes with it, as a task's containers do.
      killTaskNow(task, this.options.baseEnv);
      this.live.delete(task);
      this.recordPreviews();
      if (service.task === task) service.task = undefined;
      if (task.stopping || service.desiredCount === 0) return;
      // Stopped by Matinee for failed health checks: what ECS says when the ALB's checks fail.
      this.stoppedOnItsOwn(
        service,
        task.arn,
        task.failure
          ? 'ServiceSchedulerInitiated'
          : task.healthy
            ? 'EssentialContainerExited'
            : 'TaskFailedToStart',
        task.failure ?? `app exited (${signal ?? `code ${code}`}); see ${logFileName(service.name)}`,
      );
    });
    child.on('error', () => {}); // a missing command surfaces as exit code 127 from the shell
    this.watchHealth(service, task, revision);
  }

  /** Stopped on its own: report it as ECS would, and restart with back-off unless scaled down meanwhile. */
  private stoppedOnItsOwn(service: Service, taskArn: string, stopCode: string, stoppedReason: string): void {
    service.crashes++;
    this.options.onTaskEvent?.({
      service: service.name,
      taskArn,
      taskDefinitionArn: service.taskDefinitionArn,
      lastStatus: 'STOPPED',
      stopCode,
      stoppedReason,
    });
    const delay = Math.min(30_000, 500 * 2 ** Math.min(service.crashes, 6));
    service.restart = setTimeout(() => {
      service.restart = undefined;
      if (service.desiredCount > 0 && !service.task && this.services.get(service.name) === service) {
        this.startTask(service).catch(() => {});
      }
    }, delay);
    service.restart.unref();
  }

  /** Health checks for the life of the task; see `watchHealth`. */
  private watchHealth(service: Service, task: Task, revision: Revision): void {
    const group = [...this.targetGroups.values()].find((g) => g.arn === service.targetGroupArn);
    watchHealth(task, {
      url: `http://127.0.0.1:${task.port}${group?.healthPath ?? revision.spec.healthPath}`,
      intervalMs: this.options.healthIntervalMs ?? 200,
      healthyIntervalMs: this.options.healthyIntervalMs ?? 5000,
      unhealthyThreshold: this.options.unhealthyThreshold ?? 3,
      startTimeoutMs: this.options.startTimeoutMs ?? 120_000,
      onHealthy: () => {
        service.crashes = 0;
        this.options.onTaskEvent?.({
          service: service.name,
          taskArn: task.arn,
          taskDefinitionArn: service.taskDefinitionArn,
          lastStatus: 'RUNNING',
        });
        this.seed(service, task, revision);
      },
      onFailed: (reason) => {
        task.failure = `${reason}; see ${logFileName(service.name)}`;
        killGroup(task.child, 'SIGKILL');
      },
    });
  }

  /** `.matinee.yml`'s seed, beside the app once it is healthy, as the seed container does on ECS. */
  private seed(service: Service, task: Task, revision: Revision): void {
    const seed = revision.spec.seed ?? [];
    if (!seed.length) return;
    const log = createWriteStream(join(this.options.logDir, logFileName(service.name)), { flags: 'a' });
    const owner = task.containers?.[0];
    if (owner) task.containers?.push(`${owner}-seed`);
    const child = spawnSeed(revision.spec, seed, { port: task.port, owner }, this.options);
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.on('exit', (code) => {
      log.end(`seed exited with code ${code}\n`);
      if (task.seed === child) task.seed = undefined;
      this.recordPreviews();
    });
    child.on('error', () => {});
    task.seed = child;
    task.seedIdentity = identify(child.pid);
    this.recordPreviews();
  }

  private async stopTask(service: Service): Promise<void> {
    const task = service.task;
    if (!task) return;
    if (task.seed) killGroup(task.seed, 'SIGKILL');
    task.stopping = true;
    task.healthy = false;
    clearTimeout(task.timer);
    service.task = undefined;
    const { child } = task;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      killGroup(child, 'SIGTERM');
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        exited,
        new Promise<void>((resolve) => {
          grace = setTimeout(resolve, this.options.stopGraceMs ?? 5000);
        }),
      ]);
      clearTimeout(grace);
    }
    // The app is gone or out of time: whatever is left of its group (children that ignored SIGTERM) goes now.
    killGroup(child, 'SIGKILL');
    if (task.containers) removeContainers(this.options.baseEnv, task.containers);
  }
}
