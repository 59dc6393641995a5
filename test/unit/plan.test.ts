import { type Observed, plan, type TaskSpec } from '@matinee/core';
import { describe, expect, it } from 'vitest';

const spec = { revision: 'aaaa-1', port: 3000, healthPath: '/health' } as TaskSpec;
const nothing: Observed = { revisions: 0, health: 'none' };
const service = (overrides: Partial<NonNullable<Observed['service']>> = {}) => ({
  serviceArn: 'svc',
  desiredCount: 1,
  runningCount: 1,
  revision: 'aaaa-1',
  taskDefinitionArn: 'td:1',
  ...overrides,
});
const kinds = (steps: ReturnType<typeof plan>) => steps.map((step) => step.kind);

describe('plan', () => {
  it('creates target group, task definition and service for a new environment, without a rule yet', () => {
    expect(plan({ phase: 'running', spec }, nothing)).toEqual([
      { kind: 'ensureTargetGroup' },
      { kind: 'registerRevision' },
      { kind: 'ensureService', desiredCount: 1 },
    ]);
  });

  it('adds the host rule only once the current revision is running and healthy', () => {
    const starting: Observed = {
      revisions: 1,
      targetGroupArn: 'tg',
      service: service({ runningCount: 0 }),
      health: 'initial',
    };
    expect(plan({ phase: 'running', spec }, starting)).toEqual([]);
    expect(plan({ phase: 'running', spec }, { ...starting, service: service(), health: 'healthy' })).toEqual([
      { kind: 'ensureRule' },
    ]);
  });

  it('does nothing when the environment already serves what is wanted', () => {
    const ready: Observed = {
      revisions: 1,
      targetGroupArn: 'tg',
      ruleArn: 'rule',
      service: service(),
      health: 'healthy',
    };
    expect(plan({ phase: 'running', spec }, ready)).toEqual([]);
  });

  it('changes the target group’s health check to the new commit’s path before rolling it out', () => {
    const ready: Observed = {
      revisions: 1,
      targetGroupArn: 'tg',
      ruleArn: 'rule',
      service: service(),
      health: 'healthy',
      healthCheck: { path: '/health', standard: true },
    };
    const next = { ...spec, revision: 'bbbb-1', healthPath: '/healthz' };

    expect(kinds(plan({ phase: 'running', spec: next }, ready))).toEqual([
      'updateTargetGroup',
      'registerRevision',
      'ensureService',
    ]);
    expect(kinds(plan({ phase: 'running', spec }, ready))).toEqual([]);
  });

  it('puts back a health check whose port, matcher or timings drifted from the router’s own', () => {
    const drifted: Observed = {
      revisions: 1,
      targetGroupArn: 'tg',
      ruleArn: 'rule',
      service: service(),
      health: 'healthy',
      healthCheck: { path: '/health', standard: false },
    };
    expect(kinds(plan({ phase: 'running', spec }, drifted))).toEqual(['updateTargetGroup']);
  });

  it('re-attaches a sleeping environment’s group and brings its health check up to date on waking', () => {
    const asleep: Observed = {
      revisions: 1,
      targetGroupArn: 'tg',
      service: service({ desiredCount: 0, runningCount: 0 }),
      health: 'none',
      healthCheck: { path: '/old', standard: true },
    };
    expect(kinds(plan({ phase: 'running', spec }, asleep))).toEqual([
      'ensureTargetGroup',
      'updateTargetGroup',
      'scaleService',
    ]);
  });

  it('rolls a new commit out behind the existing rule', () => {
    const ready: Observed = {
      revisions: 1,
      targetGroupArn: 'tg',
      ruleArn: 'rule',
      service: service(),
      health: 'healthy',
    };
    expect(kinds(plan({ phase: 'running', spec: { ...spec, revision: 'bbbb-1' } }, ready))).toEqual([
      'registerRevision',
      'ensureService',
    ]);
  });

  it('wakes a sleeping environment by re-attaching its target group, then scaling its service', () => {
    const asleep: Observed = {
      revisions: 1,
      targetGroupArn: 'tg',
      service: service({ desiredCount: 0, runningCount: 0 }),
      health: 'none',
    };
    expect(plan({ phase: 'running', spec }, asleep)).toEqual([
      { kind: 'ensureTargetGroup' },
      { kind: 'scaleService', desiredCount: 1 },
    ]);
  });

  it('sleeps by removing the rule before scaling to zero', () => {
    const ready: Observed = {
      revisions: 1,
      targetGroupArn: 'tg',
      ruleArn: 'rule',
      service: service(),
      health: 'healthy',
    };
    expect(plan({ phase: 'sleeping' }, ready)).toEqual([
      { kind: 'removeRule' },
      { kind: 'scaleService', desiredCount: 0 },
    ]);
  });

  it('detaches a group that only a warming rule holds when put to sleep before it went live', () => {
    const warming: Observed = {
      revisions: 1,
      targetGroupArn: 'tg',
      warming: true,
      service: service({ runningCount: 0 }),
      health: 'initial',
    };
    expect(plan({ phase: 'sleeping' }, warming)).toEqual([
      { kind: 'removeRule' },
      { kind: 'scaleService', desiredCount: 0 },
    ]);
  });

  it('removes everything, rule first and target group after the service that uses it', () => {
    const ready: Observed = {
      revisions: 2,
      targetGroupArn: 'tg',
      ruleArn: 'rule',
      service: service(),
      health: 'healthy',
    };
    expect(kinds(plan({ phase: 'absent' }, ready))).toEqual([
      'removeRule',
      'deleteService',
      'deleteTargetGroup',
      'deregisterRevisions',
    ]);
  });

  it('finishes a half-done removal with only what is left', () => {
    expect(kinds(plan({ phase: 'absent' }, { revisions: 1, health: 'none' }))).toEqual([
      'deregisterRevisions',
    ]);
    expect(plan({ phase: 'absent' }, nothing)).toEqual([]);
  });
});
