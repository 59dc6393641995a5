import type {
  Activity,
  EnvironmentId,
  EnvironmentRef,
  Inventory,
  OwnedResource,
  Router,
  RuleAccess,
  Runtime,
  ServiceState,
  TargetHealth,
  TaskSpec,
} from '@matinee/core';

interface Service {
  arn: string;
  tags: Record<string, string>;
  desiredCount: number;
  runningCount: number;
  taskDefinitionArn: string;
}

/** A crash `before` a mutating call means it never happened; `after`, it took effect but its caller died. */
export type Fault = { call: number; when: 'before' | 'after'; error?: Error };

/**
 * Runtime, router and activity ports over one in-memory model of a cloud. Tasks do not start by
 * themselves: `startTasks()` plays Fargate bringing desired tasks up healthy.
 */
export class FakeCloud implements Runtime, Router, Activity, Inventory {
  readonly services = new Map<string, Service>();
  /** family → revisions (arn, revision) */
  readonly taskDefinitions = new Map<
    string,
    { arn: string; revision: string; spec: TaskSpec; tags: Record<string, string> }[]
  >();
  readonly targetGroups = new Map<
    string,
    { arn: string; port: number; healthPath: string; tags: Record<string, string> }
  >();
  readonly rules = new Map<
    string,
    { arn: string; targetGroupArn: string; tags: Record<string, string>; access?: RuleAccess }
  >();
  readonly requests = new Map<EnvironmentId, number>();
  readonly calls: string[] = [];
  faults: Fault[] = [];
  private mutations = 0;
  private serial = 0;

  private async mutate<T>(name: string, effect: () => T): Promise<T> {
    this.calls.push(name);
    this.mutations++;
    const fault = this.faults.find((f) => f.call === this.mutations);
    if (fault?.when === 'before') throw fault.error ?? new Error(`crash before ${name}`);
    const result = effect();
    if (fault?.when === 'after') throw fault.error ?? new Error(`crash after ${name}`);
    return result;
  }

  /** Schedules a fault for the `n`-th mutating call from now (1 = the next one). */
  failIn(n: number, when: Fault['when'], error?: Error): void {
    this.faults.push({ call: this.mutations + n, when, error });
  }

  startTasks(): void {
    for (const service of this.services.values()) service.runningCount = service.desiredCount;
  }

  /** Every resource the cloud holds, for "nothing leaks" assertions. */
  inventory(): string[] {
    return [
      ...[...this.services.keys()].map((name) => `service:${name}`),
      ...[...this.taskDefinitions.entries()].flatMap(([family, revisions]) =>
        revisions.map((_, i) => `taskdef:${family}:${i + 1}`),
      ),
      ...[...this.targetGroups.keys()].map((name) => `targetgroup:${name}`),
      ...[...this.rules.keys()].map((host) => `rule:${host}`),
    ];
  }

  async describe(
    ref: EnvironmentRef,
  ): Promise<{ service?: ServiceState; revisions: number } & Awaited<ReturnType<Router['describe']>>> {
    this.calls.push('describe');
    const service = this.services.get(ref.names.service);
    const revisions = this.taskDefinitions.get(ref.names.family) ?? [];
    const group = this.targetGroups.get(ref.names.targetGroup);
    const health: TargetHealth =
      !group || !service || service.desiredCount === 0
        ? 'none'
        : service.runningCount > 0
          ? 'healthy'
          : 'initial';
    return {
      service: service && {
        serviceArn: service.arn,
        desiredCount: service.desiredCount,
        runningCount: service.runningCount,
        taskDefinitionArn: service.taskDefinitionArn,
        revision: revisions.find((r) => r.arn === service.taskDefinitionArn)?.revision,
      },
      revisions: revisions.length,
      targetGroupArn: group?.arn,
      ruleArn: this.rules.get(ref.host)?.arn,
      access: this.rules.get(ref.host)?.access,
      health,
      healthCheck: group && { path: group.healthPath, standard: true },
    };
  }

  registerRevision(ref: EnvironmentRef, spec: TaskSpec) {
    return this.mutate('registerRevision', () => {
      const revisions = this.taskDefinitions.get(ref.names.family) ?? [];
      const existing = revisions.find((r) => r.revision === spec.revision);
      if (existing) return { taskDefinitionArn: existing.arn };
      const arn = `arn:taskdef/${ref.names.family}:${revisions.length + 1}`;
      this.taskDefinitions.set(ref.names.family, [
        ...revisions,
        { arn, revision: spec.revision, spec, tags: ref.tags },
      ]);
      return { taskDefinitionArn: arn };
    });
  }

  ensureService(
    ref: EnvironmentRef,
    input: { taskDefinitionArn: string; targetGroupArn: string; desiredCount: number },
  ) {
    return this.mutate('ensureService', () => {
      const existing = this.services.get(ref.names.service);
      const changed = existing?.taskDefinitionArn !== input.taskDefinitionArn;
      const service: Service = {
        arn: existing?.arn ?? `arn:service/${ref.names.service}`,
        tags: ref.tags,
        desiredCount: input.desiredCount,
        // A new revision replaces the running tasks: none of the new ones run yet.
        runningCount: changed ? 0 : Math.min(existing?.runningCount ?? 0, input.desiredCount),
        taskDefinitionArn: input.taskDefinitionArn,
      };
      this.services.set(ref.names.service, service);
      return { serviceArn: service.arn };
    });
  }

  scaleService(ref: EnvironmentRef, desiredCount: number) {
    return this.mutate('scaleService', () => {
      const service = this.services.get(ref.names.service);
      if (!service) throw new Error(`service ${ref.names.service} not found`);
      service.desiredCount = desiredCount;
      service.runningCount = Math.min(service.runningCount, desiredCount);
    });
  }

  deleteService(ref: EnvironmentRef) {
    return this.mutate('deleteService', () => {
      this.services.delete(ref.names.service);
    });
  }

  deregisterRevisions(ref: EnvironmentRef) {
    return this.mutate('deregisterRevisions', () => {
      this.taskDefinitions.delete(ref.names.family);
    });
  }

  ensureTargetGroup(ref: EnvironmentRef, input: { port: number; healthPath: string }) {
    return this.mutate('ensureTargetGroup', () => {
      const group = this.targetGroups.get(ref.names.targetGroup) ?? {
        arn: `arn:targetgroup/${ref.names.targetGroup}/${++this.serial}`,
        ...input,
        tags: ref.tags,
      };
      this.targetGroups.set(ref.names.targetGroup, group);
      return { targetGroupArn: group.arn };
    });
  }

  updateTargetGroup(
    ref: EnvironmentRef,
    targetGroupArn: string,
    input: { port: number; healthPath: string },
  ) {
    return this.mutate('updateTargetGroup', () => {
      const group = this.targetGroups.get(ref.names.targetGroup);
      if (group?.arn !== targetGroupArn) throw new Error(`target group ${targetGroupArn} not found`);
      Object.assign(group, input);
    });
  }

  ensureRule(ref: EnvironmentRef, targetGroupArn: string, access?: RuleAccess) {
    return this.mutate('ensureRule', () => {
      const rule = this.rules.get(ref.host) ?? {
        arn: `arn:rule/${ref.host}/${++this.serial}`,
        targetGroupArn,
        tags: ref.tags,
      };
      this.rules.set(ref.host, { ...rule, access });
      return { ruleArn: rule.arn };
    });
  }

  removeRule(ref: EnvironmentRef) {
    return this.mutate('removeRule', () => {
      this.rules.delete(ref.host);
    });
  }

  deleteTargetGroup(ref: EnvironmentRef) {
    return this.mutate('deleteTargetGroup', () => {
      const group = this.targetGroups.get(ref.names.targetGroup);
      const inUse = group && [...this.rules.values()].some((rule) => rule.targetGroupArn === group.arn);
      if (inUse) throw new Error(`target group ${ref.names.targetGroup} is in use by a listener rule`);
      this.targetGroups.delete(ref.names.targetGroup);
    });
  }

  async listOwned(): Promise<OwnedResource[]> {
    this.calls.push('listOwned');
    const owned = (
      kind: OwnedResource['kind'],
      arn: string,
      tags: Record<string, string>,
    ): OwnedResource[] =>
      tags['matinee:environment'] && tags['matinee:host']
        ? [{ kind, arn, environmentId: tags['matinee:environment'], host: tags['matinee:host'] }]
        : [];
    return [
      ...[...this.services.values()].flatMap((s) => owned('service', s.arn, s.tags)),
      ...[...this.taskDefinitions.values()].flat().flatMap((t) => owned('task-definition', t.arn, t.tags)),
      ...[...this.targetGroups.values()].flatMap((g) => owned('target-group', g.arn, g.tags)),
      ...[...this.rules.values()].flatMap((r) => owned('rule', r.arn, r.tags)),
    ];
  }

  /** Requests counted in `requests` were served just before `until`. */
  async requestActivity(refs: EnvironmentRef[], _since: Date, until: Date) {
    this.calls.push('requestActivity');
    return new Map(
      refs.map((ref) => {
        const count = this.requests.get(ref.id) ?? 0;
        return [ref.id, count ? { count, lastAt: until } : { count }];
      }),
    );
  }
}
