import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { TaskEvent } from '@matinee/core';
import { freePort, killGroup, killTaskNow, spawnAppProcess, spawnSeed } from './app-process.ts';
import { removeContainers, startContainers } from './docker-runtime.ts';
import { logFileName } from './file-logs.ts';
import { watchHealth } from './health-check.ts';
import type { Revision, Task } from './local-task.ts';
import { identify, type RunningPreview } from './preview-registry.ts';

export interface TaskLifeOptions {
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

export interface Service {
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

/** What a task's life asks of the tables ProcessCloud keeps. */
export interface ServiceTables {
  /** The revision the service runs now, while it is registered. */
  revisionOf(service: Service): Revision | undefined;
  /** The service is still the one kept under its name: not replaced or deleted. */
  isCurrent(service: Service): boolean;
  /** The path its target group's health checks request, when it has a target group. */
  healthPathOf(service: Service): string | undefined;
  /** The next number of the serial ProcessCloud also numbers its rules with. */
  nextSerial(): number;
}

/**
 * Each local task's life, as ECS runs a service's tasks: start (a local process, see app-process.ts, or
 * containers, docker-runtime.ts), health checks (health-check.ts), the seed once healthy, restart with
 * back-off when it stops on its own, and stop. Processes run in their own process group so a stop reaches
 * whatever `sh -c` started.
 */
export class TaskLife {
  /** Every task whose process has not exited yet, with its service's name: what `onPreviewsChanged` hears. */
  private readonly live = new Map<Task, string>();

  constructor(
    private readonly options: TaskLifeOptions,
    private readonly tables: ServiceTables,
  ) {}

  /** SIGKILLs the service's task now, synchronously, and keeps it from restarting (see ProcessCloud.killAllNow). */
  killNow(service: Service): void {
    service.desiredCount = 0;
    clearTimeout(service.restart);
    if (service.task) {
      service.task.stopping = true;
      killTaskNow(service.task, this.options.baseEnv);
    }
  }

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

  async scale(service: Service, desiredCount: number): Promise<void> {
    service.desiredCount = desiredCount;
    if (desiredCount === 0) {
      clearTimeout(service.restart);
      service.restart = undefined;
      if (service.task) await this.stopTask(service);
    } else if (!service.task && !service.restart && !service.starting) {
      await this.startTask(service);
    }
  }

  private async startTask(service: Service): Promise<void> {
    const revision = this.tables.revisionOf(service);
    if (!revision || (!revision.spec.local && !this.options.docker))
      throw new Error(`no runnable revision for ${service.name}`);
    service.starting = true;
    let launched: { child: ChildProcess; port: number; containers?: string[] } | undefined;
    try {
      const port = await freePort();
      // Scaled down, replaced or deleted meanwhile: starting now would leave an orphan.
      const stale = () => service.desiredCount === 0 || service.task || !this.tables.isCurrent(service);
      if (stale() || service.taskDefinitionArn !== revision.arn) return;
      launched = revision.spec.local
        ? { child: spawnAppProcess(revision.spec, revision.spec.local, port, this.options), port }
        : await startContainers(
            { service: service.name, serial: this.tables.nextSerial(), revision, port },
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
      if (service.desiredCount > 0 && !service.task && this.tables.isCurrent(service)) {
        this.startTask(service).catch(() => {});
      }
    }, delay);
    service.restart.unref();
  }

  /** Health checks for the life of the task; see `watchHealth`. */
  private watchHealth(service: Service, task: Task, revision: Revision): void {
    watchHealth(task, {
      url: `http://127.0.0.1:${task.port}${this.tables.healthPathOf(service) ?? revision.spec.healthPath}`,
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

  async stopTask(service: Service): Promise<void> {
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
