import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  type Activity,
  type EnvironmentId,
  type EnvironmentRef,
  type Inventory,
  type OwnedResource,
  type Router,
  type Runtime,
  type ServiceState,
  type TargetHealth,
  type TaskEvent,
  type TaskSpec,
  UserError,
} from '@matinee/core';

export interface ProcessCloudOptions {
  /** Where each environment's output goes, one file per service. */
  logDir: string;
  /** Working directory of app commands whose config gives none. */
  defaultCwd: string;
  /** SIGTERM, then SIGKILL after this long. */
  stopGraceMs?: number;
  healthIntervalMs?: number;
  /** Told when a task becomes healthy or stops on its own, as ECS task events are on AWS. */
  onTaskEvent?: (event: TaskEvent) => void;
}

interface Revision {
  arn: string;
  spec: TaskSpec;
  tags: Record<string, string>;
}

interface Task {
  child: ChildProcess;
  /** The seed command, while it runs. */
  seed?: ChildProcess;
  port: number;
  healthy: boolean;
  stopping: boolean;
  timer?: NodeJS.Timeout;
}

interface Service {
  name: string;
  arn: string;
  desiredCount: number;
  taskDefinitionArn: string;
  targetGroupArn: string;
  tags: Record<string, string>;
  task?: Task;
  /** Consecutive stops on its own; restarts back off with it. */
  crashes: number;
  restart?: NodeJS.Timeout;
}

/** A free TCP port on loopback, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * The runtime, router, activity and inventory ports on one machine: an environment's app is a local
 * process (its `local.command`), its "target group" the process's port, its "host rule" an entry in the
 * routing table the HTTP router reads. Processes run in their own process group so a stop reaches
 * whatever `sh -c` started.
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
    { arn: string; targetGroupArn: string; tags: Record<string, string> }
  >();
  private readonly requests = new Map<string, number[]>();
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
    }
  > {
    const service = this.services.get(ref.names.service);
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
      targetGroupArn: this.targetGroups.get(ref.names.targetGroup)?.arn,
      ruleArn: this.rules.get(ref.host)?.arn,
      health: !task ? 'none' : task.healthy ? 'healthy' : 'initial',
    };
  }

  async registerRevision(ref: EnvironmentRef, spec: TaskSpec) {
    const revisions = this.revisions.get(ref.names.family) ?? [];
    const existing = revisions.find((r) => r.spec.revision === spec.revision);
    if (existing) return { taskDefinitionArn: existing.arn };
    if (!spec.local) {
      throw new UserError('.matinee.yml has no `local.command`: npm start runs the app as a process');
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

  async ensureRule(ref: EnvironmentRef, targetGroupArn: string) {
    const rule = this.rules.get(ref.host) ?? {
      arn: `local:rule/${ref.host}/${++this.serial}`,
      targetGroupArn,
      tags: ref.tags,
    };
    this.rules.set(ref.host, rule);
    return { ruleArn: rule.arn };
  }

  async removeRule(ref: EnvironmentRef) {
    this.rules.delete(ref.host);
  }

  async deleteTargetGroup(ref: EnvironmentRef) {
    this.targetGroups.delete(ref.names.targetGroup);
  }

  /** Where a request for `host` goes: the port of a healthy process behind a host rule, or nowhere. */
  route(host: string): number | undefined {
    const rule = this.rules.get(host);
    if (!rule) return undefined;
    for (const service of this.services.values()) {
      if (service.targetGroupArn === rule.targetGroupArn && service.task?.healthy) return service.task.port;
    }
    return undefined;
  }

  // ── Activity and inventory ────────────────────────────────────────────────

  /** The router counts each request it proxies: that is the local `RequestCount`. */
  countRequest(host: string, at = Date.now()): void {
    const times = this.requests.get(host) ?? [];
    times.push(at);
    // Keep a day at most: idle windows are shorter.
    while (times.length && (times[0] ?? 0) < at - 86_400_000) times.shift();
    this.requests.set(host, times);
  }

  async requestCounts(refs: EnvironmentRef[], since: Date, until: Date) {
    const counts = new Map<EnvironmentId, number>();
    for (const ref of refs) {
      const times = this.requests.get(ref.host) ?? [];
      counts.set(ref.id, times.filter((t) => t >= since.getTime() && t < until.getTime()).length);
    }
    return counts;
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

  // ── Processes ──────────────────────────────────────────────────────────────

  private async scale(service: Service, desiredCount: number): Promise<void> {
    service.desiredCount = desiredCount;
    if (desiredCount === 0) {
      clearTimeout(service.restart);
      service.restart = undefined;
      if (service.task) await this.stopTask(service);
    } else if (!service.task && !service.restart) {
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
    const local = revision?.spec.local;
    if (!revision || !local) throw new Error(`no runnable revision for ${service.name}`);
    const port = await freePort();
    const app = revision.spec.containers[0];
    const [command = 'true', ...args] = local.command;
    const log = createWriteStream(join(this.options.logDir, `${service.name}.log`), { flags: 'a' });
    const child = spawn(command, args, {
      cwd: local.cwd ?? this.options.defaultCwd,
      env: {
        ...process.env,
        ...app?.env,
        PORT: String(port),
      },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const task: Task = { child, port, healthy: false, stopping: false };
    service.task = task;
    child.on('exit', (code, signal) => {
      log.end();
      clearInterval(task.timer);
      if (service.task === task) service.task = undefined;
      if (task.stopping || service.desiredCount === 0) return;
      // Stopped on its own: report it as ECS would, and restart with back-off unless scaled down meanwhile.
      service.crashes++;
      this.options.onTaskEvent?.({
        service: service.name,
        taskDefinitionArn: service.taskDefinitionArn,
        lastStatus: 'STOPPED',
        stopCode: task.healthy ? 'EssentialContainerExited' : 'TaskFailedToStart',
        stoppedReason: `app exited (${signal ?? `code ${code}`}); see ${service.name}.log`,
      });
      const delay = Math.min(30_000, 500 * 2 ** Math.min(service.crashes, 6));
      service.restart = setTimeout(() => {
        service.restart = undefined;
        if (service.desiredCount > 0 && !service.task && this.services.get(service.name) === service) {
          this.startTask(service).catch(() => {});
        }
      }, delay);
      service.restart.unref();
    });
    child.on('error', () => {}); // a missing command surfaces as exit code 127 from the shell
    this.watchHealth(service, task, revision);
  }

  private watchHealth(service: Service, task: Task, revision: Revision): void {
    const group = [...this.targetGroups.values()].find((g) => g.arn === service.targetGroupArn);
    const url = `http://127.0.0.1:${task.port}${group?.healthPath ?? revision.spec.healthPath}`;
    task.timer = setInterval(async () => {
      if (task.healthy || task.stopping) return;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
        if (!response.ok || task.healthy) return;
        task.healthy = true;
        service.crashes = 0;
        clearInterval(task.timer);
        this.options.onTaskEvent?.({
          service: service.name,
          taskDefinitionArn: service.taskDefinitionArn,
          lastStatus: 'RUNNING',
        });
        this.seed(service, task, revision);
      } catch {
        // not listening yet
      }
    }, this.options.healthIntervalMs ?? 200);
    task.timer.unref();
  }

  /** `.matinee.yml`'s seed, beside the app once it is healthy, as the seed container does on ECS. */
  private seed(service: Service, task: Task, revision: Revision): void {
    const [command, ...args] = revision.spec.seed ?? [];
    if (!command) return;
    const app = revision.spec.containers[0];
    const log = createWriteStream(join(this.options.logDir, `${service.name}.log`), { flags: 'a' });
    const child = spawn(command, args, {
      cwd: revision.spec.local?.cwd ?? this.options.defaultCwd,
      env: { ...process.env, ...app?.env, PORT: String(task.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.on('exit', (code) => {
      log.end(`seed exited with code ${code}\n`);
      if (task.seed === child) task.seed = undefined;
    });
    child.on('error', () => {});
    task.seed = child;
  }

  private async stopTask(service: Service): Promise<void> {
    const task = service.task;
    if (!task) return;
    task.seed?.kill('SIGKILL');
    task.stopping = true;
    task.healthy = false;
    clearInterval(task.timer);
    service.task = undefined;
    const { child } = task;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const signal = (name: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, name);
      } catch {
        // already gone
      }
    };
    signal('SIGTERM');
    const grace = setTimeout(() => signal('SIGKILL'), this.options.stopGraceMs ?? 5000);
    await exited;
    clearTimeout(grace);
  }
}
