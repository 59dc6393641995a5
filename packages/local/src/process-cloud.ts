import { mkdirSync } from 'node:fs';
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
  type TaskSpec,
  UserError,
} from '@matinee/core';
import type { Revision } from './local-task.ts';
import { RequestCount } from './request-count.ts';
import { type Service, TaskLife, type TaskLifeOptions } from './task-life.ts';

export type ProcessCloudOptions = TaskLifeOptions;

/**
 * The runtime, router, activity and inventory ports on one machine: an environment's app is a local
 * process (its `local.command`, see app-process.ts) or its containers (docker-runtime.ts), its "target
 * group" the app's port, its "host rule" an entry in the routing table the HTTP router reads. This class
 * keeps those tables; each task's life (start, health, seed, restart with back-off, stop) is task-life.ts's.
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
  private serial = 0;
  private readonly tasks: TaskLife;

  constructor(private readonly options: ProcessCloudOptions) {
    mkdirSync(options.logDir, { recursive: true });
    this.tasks = new TaskLife(options, {
      revisionOf: (service) => this.revisionOf(service),
      isCurrent: (service) => this.services.get(service.name) === service,
      healthPathOf: (service) =>
        [...this.targetGroups.values()].find((g) => g.arn === service.targetGroupArn)?.healthPath,
      nextSerial: () => ++this.serial,
    });
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
    if (changed && service.task) await this.tasks.stopTask(service);
    await this.tasks.scale(service, input.desiredCount);
    return { serviceArn: service.arn };
  }

  async scaleService(ref: EnvironmentRef, desiredCount: number) {
    const service = this.services.get(ref.names.service);
    if (service) await this.tasks.scale(service, desiredCount);
  }

  async deleteService(ref: EnvironmentRef) {
    const service = this.services.get(ref.names.service);
    if (!service) return;
    await this.tasks.scale(service, 0);
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
    await Promise.all([...this.services.values()].map((service) => this.tasks.scale(service, 0)));
  }

  /**
   * SIGKILLs every process group at once, synchronously: for an exit that cannot wait for a graceful
   * shutdown (an uncaught error), so that no app outlives Matinee.
   */
  killAllNow(): void {
    for (const service of this.services.values()) this.tasks.killNow(service);
  }

  private revisionOf(service: Service): Revision | undefined {
    for (const revisions of this.revisions.values()) {
      const found = revisions.find((r) => r.arn === service.taskDefinitionArn);
      if (found) return found;
    }
    return undefined;
  }
}
