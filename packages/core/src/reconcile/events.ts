import type { Environment } from '../environment/environment.ts';
import { lastActive } from '../use-cases/idle.ts';

/**
 * What happened to an environment, as one log line a person reads: `fix-login-pr42 ready in 1.4 s`,
 * `fix-login-pr42 asleep after 20 s idle`. The steps that got it there (CreateService, ensureRule, …) are
 * logged at debug level only.
 */
export interface LifecycleEvent {
  level: 'info' | 'warn';
  message: string;
  fields: Record<string, unknown>;
}

/** 0.4 s, 1.4 s, 12 s, 3 min 5 s, 2 h 10 min. */
export function formatSeconds(seconds: number): string {
  const tenths = Math.round(Math.max(0, seconds) * 10) / 10;
  if (tenths < 10) return `${tenths.toFixed(1)} s`;
  const s = Math.round(tenths);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const minutes = Math.round((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${minutes ? ` ${minutes} min` : ''}`;
}

const since = (from: string | undefined, to: Date) =>
  (to.getTime() - (Date.parse(from ?? '') || to.getTime())) / 1000;

/**
 * The event a reconcile's saved change amounts to, or none (nothing a person would notice changed). `now` is
 * when the change was saved; `url` is where the preview answers.
 */
export function lifecycleEvent(
  before: Environment,
  after: Environment,
  now: Date,
  url?: string,
): LifecycleEvent | undefined {
  const was = before.observed;
  const is = after.observed;
  const name = after.slug;
  const sha = (is.sha ?? after.desired.sha).slice(0, 7);
  const fields = { id: after.id, sha };
  const info = (message: string, extra: Record<string, unknown> = {}): LifecycleEvent => ({
    level: 'info',
    message,
    fields: { ...fields, ...extra },
  });
  if (is.phase === was.phase && (is.phase !== 'ready' || is.sha === was.sha)) return undefined;
  switch (is.phase) {
    case 'building':
      return info(`${name} building its image (${is.reason ?? after.desired.reason})`);
    case 'starting':
      return info(`${name} starting (${after.desired.reason})`);
    case 'ready':
      // From when it was asked to run: opened, pushed, woken.
      return info(`${name} ready in ${formatSeconds(since(after.desired.since, now))}`, { url });
    case 'sleeping': {
      if (!after.desired.reason.startsWith('idle')) return info(`${name} asleep (${after.desired.reason})`);
      const idle = (Date.parse(after.desired.since) - lastActive(before)) / 1000;
      return info(`${name} asleep after ${formatSeconds(idle)} idle`);
    }
    case 'failed':
      return {
        level: 'warn',
        message: `${name} failed: ${after.observed.failure?.reason ?? after.observed.lastError ?? 'unknown reason'}`,
        fields,
      };
    case 'deleted':
      return info(`${name} removed (${after.desired.reason})`);
    case 'skipped':
      return info(`${name} not deployed: ${is.reason ?? 'skipped'}`);
    default:
      return undefined;
  }
}
