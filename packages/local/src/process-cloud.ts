import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  type Activity,
  type EnvironmentId,
  type EnvironmentRef,
  type Inventory,
  type OwnedResource,
  type RequestActivity,
  type Router,
  type Runtime,
  SEED_CONTAINER,
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
  /** Why Matinee stopped it itself (failed health checks), reported as the stopped reason. */
  failure?: string;
  /** Its Docker containers, network owner first, when it runs as containers. */
  containers?: string[];
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
  /** Proxied requests per host, counted per second: the local `RequestCount`. */
  private readonly requests = new Map<string, Map<number, number>>();
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

  /**
   * The router counts each request it proxies to an app, as the ALB counts a target group's requests:
   * requests answered by the wake path are not the app's traffic. Counted per second and kept for a day
   * (idle windows are shorter), so memory stays bounded whatever the traffic.
   */
  countRequest(host: string, at = Date.now()): void {
    const second = Math.floor(at / 1000);
    const buckets = this.requests.get(host) ?? new Map<number, number>();
    buckets.set(second, (buckets.get(second) ?? 0) + 1);
    for (const old of buckets.keys()) {
      if (old >= second - 86_400) break; // insertion order is time order
      buckets.delete(old);
    }
    this.requests.set(host, buckets);
  }

  /** Requests in the whole seconds within [since, until): exact to the second, like a one-second metric. */
  async requestActivity(refs: EnvironmentRef[], since: Date, until: Date) {
    const activity = new Map<EnvironmentId, RequestActivity>();
    for (const ref of refs) {
      const seen: RequestActivity = { count: 0 };
      for (const [second, n] of this.requests.get(ref.host) ?? []) {
        if (second * 1000 < since.getTime() || second * 1000 >= until.getTime()) continue;
        seen.count += n;
        // The end of the request's second: the same answer however often it is asked.
        const end = new Date((second + 1) * 1000);
        if (!seen.lastAt || end > seen.lastAt) seen.lastAt = end;
      }
      activity.set(ref.id, seen);
    }
    return activity;
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
        killGroup(service.task.child, 'SIGKILL');
        if (service.task.seed) killGroup(service.task.seed, 'SIGKILL');
        if (service.task.containers) removeContainers(this.options.baseEnv, service.task.containers);
      }
    }
  }

  // ── Processes ──────────────────────────────────────────────────────────────

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
        ? { child: this.spawnProcess(revision, revision.spec.local, port), port }
        : await this.startContainers(service, revision, port);
      if (stale()) {
        killGroup(launched.child, 'SIGKILL');
        if (launched.containers) removeContainers(this.options.baseEnv, launched.containers);
        return;
      }
    } catch (error) {
      // A container that would not start (an image that cannot be pulled): a task that failed to start.
      this.stoppedOnItsOwn(
        service,
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
    const log = createWriteStream(join(this.options.logDir, `${service.name}.log`), { flags: 'a' });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const task: Task = { child, port, healthy: false, stopping: false, containers };
    service.task = task;
    child.on('exit', (code, signal) => {
      log.end();
      clearInterval(task.timer);
      // Whatever the app started in the background goes with it, as a task's containers do.
      killGroup(child, 'SIGKILL');
      if (task.seed) killGroup(task.seed, 'SIGKILL');
      if (task.containers) removeContainers(this.options.baseEnv, task.containers);
      if (service.task === task) service.task = undefined;
      if (task.stopping || service.desiredCount === 0) return;
      // Stopped by Matinee for failed health checks: what ECS says when the ALB's checks fail.
      this.stoppedOnItsOwn(
        service,
        task.failure
          ? 'ServiceSchedulerInitiated'
          : task.healthy
            ? 'EssentialContainerExited'
            : 'TaskFailedToStart',
        task.failure ?? `app exited (${signal ?? `code ${code}`}); see ${service.name}.log`,
      );
    });
    child.on('error', () => {}); // a missing command surfaces as exit code 127 from the shell
    this.watchHealth(service, task, revision);
  }

  /** Stopped on its own: report it as ECS would, and restart with back-off unless scaled down meanwhile. */
  private stoppedOnItsOwn(service: Service, stopCode: string, stoppedReason: string): void {
    service.crashes++;
    this.options.onTaskEvent?.({
      service: service.name,
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

  /** `local.command` as a process in its own group, with the app's variables and `PORT`. */
  private spawnProcess(
    revision: Revision,
    local: NonNullable<TaskSpec['local']>,
    port: number,
  ): ChildProcess {
    const app = revision.spec.containers[0];
    const [command = 'true', ...args] = local.command;
    return spawn(command, args, {
      cwd: local.cwd ?? this.options.defaultCwd,
      env: { ...this.options.baseEnv, ...app?.env, PORT: String(port) },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /**
   * The task's containers, as Fargate runs them: one network for all (the first started owns it and
   * publishes the app's port on loopback, the others join it, so each reaches the others on localhost),
   * sidecars first, then the app in the foreground, whose `docker run` is the task's process. The seed runs
   * later, once the app is healthy (see `seed`).
   */
  private async startContainers(
    service: Service,
    revision: Revision,
    port: number,
  ): Promise<{ child: ChildProcess; port: number; containers: string[] }> {
    const serial = ++this.serial;
    const [app, ...sidecars] = revision.spec.containers.filter((c) => c.name !== SEED_CONTAINER);
    if (!app?.port) throw new Error(`no app container in ${revision.arn}`);
    const name = (container: string) => `${service.name}-${serial}-${container}`;
    const order = [...sidecars, app];
    const containers = order.map((container) => name(container.name));
    const owner = containers[0] as string;
    const network = (index: number) =>
      index === 0 ? ['-p', `127.0.0.1:${port}:${app.port}`] : ['--network', `container:${owner}`];
    const run = (container: (typeof order)[number], index: number) => [
      '--rm',
      '--name',
      name(container.name),
      '--label',
      `matinee.service=${service.name}`,
      ...network(index),
      ...envFlags(container.env),
      container.image,
      ...(container.command ?? []),
    ];
    try {
      for (const [index, sidecar] of sidecars.entries())
        await docker(this.options.baseEnv, ['run', '-d', ...run(sidecar, index)]);
    } catch (error) {
      removeContainers(this.options.baseEnv, containers);
      throw error;
    }
    const child = spawn('docker', ['run', ...run(app, sidecars.length)], {
      env: this.options.baseEnv,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { child, port, containers };
  }

  /**
   * Health checks for the life of the task, as the ALB's: frequent until the first pass, then at a calmer
   * pace. An app that never passes within the start timeout, or fails several checks in a row once healthy,
   * is stopped and reported as a stopped task, so the restart back-off and the failure count apply.
   */
  private watchHealth(service: Service, task: Task, revision: Revision): void {
    const group = [...this.targetGroups.values()].find((g) => g.arn === service.targetGroupArn);
    const url = `http://127.0.0.1:${task.port}${group?.healthPath ?? revision.spec.healthPath}`;
    const startedAt = Date.now();
    const startTimeoutMs = this.options.startTimeoutMs ?? 120_000;
    const threshold = this.options.unhealthyThreshold ?? 3;
    let failures = 0;
    let checking = false;
    const fail = (reason: string) => {
      task.failure = `${reason}; see ${service.name}.log`;
      task.healthy = false;
      clearTimeout(task.timer);
      killGroup(task.child, 'SIGKILL');
    };
    const check = async () => {
      if (task.stopping || task.failure || checking) return;
      checking = true;
      let passed = false;
      try {
        passed = (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
      } catch {
        // not listening (yet)
      } finally {
        checking = false;
      }
      if (task.stopping || task.failure) return;
      if (passed) {
        failures = 0;
        if (!task.healthy) {
          task.healthy = true;
          service.crashes = 0;
          this.options.onTaskEvent?.({
            service: service.name,
            taskDefinitionArn: service.taskDefinitionArn,
            lastStatus: 'RUNNING',
          });
          this.seed(service, task, revision);
        }
      } else if (task.healthy && ++failures >= threshold) {
        return fail(`app failed ${failures} health checks in a row (${url})`);
      } else if (!task.healthy && Date.now() - startedAt > startTimeoutMs) {
        return fail(
          `app did not pass its health check (${url}) within ${Math.round(startTimeoutMs / 1000)}s`,
        );
      }
      schedule();
    };
    const schedule = () => {
      const every = task.healthy
        ? (this.options.healthyIntervalMs ?? 5000)
        : (this.options.healthIntervalMs ?? 200);
      task.timer = setTimeout(check, every);
      task.timer.unref();
    };
    schedule();
  }

  /** `.matinee.yml`'s seed, beside the app once it is healthy, as the seed container does on ECS. */
  private seed(service: Service, task: Task, revision: Revision): void {
    const seed = revision.spec.seed ?? [];
    if (!seed.length) return;
    const app = revision.spec.containers[0];
    const log = createWriteStream(join(this.options.logDir, `${service.name}.log`), { flags: 'a' });
    // As containers: the app's image and variables, in the task's network.
    const owner = task.containers?.[0];
    const [command = 'true', ...args] =
      owner && app
        ? [
            'docker',
            'run',
            '--rm',
            '--name',
            `${owner}-seed`,
            '--network',
            `container:${owner}`,
            ...envFlags(app.env),
            app.image,
            ...seed,
          ]
        : seed;
    if (owner) task.containers?.push(`${owner}-seed`);
    const child = spawn(command, args, {
      cwd: revision.spec.local?.cwd ?? this.options.defaultCwd,
      env: owner ? this.options.baseEnv : { ...this.options.baseEnv, ...app?.env, PORT: String(task.port) },
      // Its own group, like the app's, so a stop reaches whatever it started.
      detached: true,
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

/** A container's variables as `docker run` takes them. */
function envFlags(env: Record<string, string>): string[] {
  return Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
}

/** Runs a `docker` command to its end; its error output is the message when it fails. */
function docker(env: Record<string, string>, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(out.trim())
        : reject(new Error(`docker ${args[0]} failed: ${err.trim() || `exit ${code}`}`)),
    );
  });
}

/** Removes containers whatever state they are in; synchronous, so that it also works as Matinee exits. */
function removeContainers(env: Record<string, string>, names: string[]): void {
  spawnSync('docker', ['rm', '-f', ...names], { env, stdio: 'ignore', timeout: 30_000 });
}

/** Whether a Docker engine answers, within a few seconds. */
export async function dockerAvailable(env: Record<string, string>): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('docker', ['info', '--format', '{{.ServerVersion}}'], { env, stdio: 'ignore' });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(false);
    }, 3000);
    child.on('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

/** Signals a process's whole group (it was spawned detached, as its group's leader). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}
