/** The small ports every part uses: the bus, inventory, clock, rate limiter, logger and settings. */
import type { AccessMode } from '../access/mode.ts';
import type { ConfigDefaults } from '../config/config.ts';
import type { EnvironmentId } from '../environment/environment.ts';

export interface Bus {
  /** Asks for `reconcile(id)` to run soon. Duplicates are harmless: reconcile is idempotent. */
  requestReconcile(ids: EnvironmentId[], reason: string): Promise<void>;
}

/** A cloud resource carrying Matinee's tags for this stage. */
export interface OwnedResource {
  arn: string;
  kind: 'service' | 'task-definition' | 'target-group' | 'rule' | 'volume';
  /** From the `matinee:environment` tag. */
  environmentId: string;
  /** From the `matinee:host` tag. */
  host: string;
}

/** Finds what Matinee created, by its tags only: never an unfiltered list of someone else's resources. */
export interface Inventory {
  listOwned(): Promise<OwnedResource[]>;
}

export interface Clock {
  now(): Date;
}

/**
 * Counts distinct events per key in fixed windows of `windowSeconds` (every key's windows start at the same
 * instants). `take` counts `event` unless `limit` other events were already counted in the current window:
 * then it is refused, counts nothing, and says how long until the window ends. An event already counted is
 * admitted again without counting twice: the requests of one burst, or a retried call, are one event.
 * Concurrent takes never admit more than `limit` events.
 */
export interface RateLimiter {
  take(
    key: string,
    event: string,
    limit: number,
    windowSeconds: number,
  ): Promise<{ allowed: boolean; retryAfterSeconds: number }>;
}

/** Structured log lines. Callers never pass secrets or raw request bodies. */
export interface Logger {
  /** What only someone debugging Matinee wants: AWS-shaped steps (ensureService, CreateService, …). */
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface Settings {
  stage: string;
  /** Previews live at `<slug>.<domain>`. */
  domain: string;
  /** How previews are reached: https on AWS; http and a port locally. */
  scheme?: 'http' | 'https';
  port?: number;
  /** Size and idle timeout for repositories whose `.matinee.yml` does not set them. */
  defaults?: ConfigDefaults;
  /** Who may open previews (`MATINEE_ACCESS`); `.matinee.yml` may only make it stricter. `public` when unset. */
  access?: AccessMode;
}

/** The address people open for `host`. */
export function publicUrl(settings: Pick<Settings, 'scheme' | 'port'>, host: string): string {
  return `${settings.scheme ?? 'https'}://${host}${settings.port ? `:${settings.port}` : ''}`;
}
