/** The router and activity ports: target groups, host rules and request counts (the ALB on AWS). */
import type { EnvironmentId } from '../environment/environment.ts';
import type { EnvironmentRef } from './runtime.ts';

export type TargetHealth = 'healthy' | 'unhealthy' | 'initial' | 'none';

/**
 * A target group's health check: the path it requests, and whether everything else about it (the port it
 * checks, the status codes it accepts, its timings) is what the router itself would set.
 */
export interface HealthCheckState {
  path: string;
  standard: boolean;
}

/** The cookie a private preview's host rule requires (see access/credentials.ts). */
export interface RuleAccess {
  cookieName: string;
  /** 32 lowercase hex digits. */
  secret: string;
}

export interface Router {
  /**
   * `access` is the cookie condition the live rule holds (none: it forwards every request), so that reconcile
   * can bring a rule whose secret was rotated up to date. `ruleArn` is the live host rule. `warming`: a rule that matches nobody yet holds the group attached (the
   * load balancer checks only attached groups), so the environment holds a place on the ALB all the same.
   */
  describe(ref: EnvironmentRef): Promise<{
    targetGroupArn?: string;
    ruleArn?: string;
    warming?: boolean;
    health: TargetHealth;
    access?: RuleAccess;
    /** The target group's health check as the load balancer has it (see `HealthCheckState`). */
    healthCheck?: HealthCheckState;
  }>;
  ensureTargetGroup(
    ref: EnvironmentRef,
    input: { port: number; healthPath: string },
  ): Promise<{ targetGroupArn: string }>;
  /**
   * Makes the existing group's health check the one `input` asks for, with the router's own settings
   * (port, matcher, timings): a changed `app.health` must reach the load balancer, or it fails every
   * check of the new tasks. Idempotent.
   */
  updateTargetGroup(
    ref: EnvironmentRef,
    targetGroupArn: string,
    input: { port: number; healthPath: string },
  ): Promise<void>;
  /**
   * The host rule sending `ref.host` to the target group. Idempotent. With `access`, the rule forwards only
   * requests whose Cookie header carries `<cookieName>=<secret>` (on AWS a second condition, `http-header`
   * `Cookie` matching `*<cookieName>=<secret>*`); without it, every request for the host. An existing rule
   * whose condition differs (a rotated secret, a changed mode) is updated in place.
   */
  ensureRule(ref: EnvironmentRef, targetGroupArn: string, access?: RuleAccess): Promise<{ ruleArn: string }>;
  /** Absent already is success. */
  removeRule(ref: EnvironmentRef): Promise<void>;
  deleteTargetGroup(ref: EnvironmentRef): Promise<void>;
}

/** What an environment served in a window. */
export interface RequestActivity {
  count: number;
  /**
   * When the last of them was served, rounded up to the end of its metric interval (so never too early),
   * when the source can tell.
   */
  lastAt?: Date;
}

export interface Activity {
  /** Requests each environment served in [since, until); environments with no data count 0. */
  requestActivity(
    refs: EnvironmentRef[],
    since: Date,
    until: Date,
  ): Promise<Map<EnvironmentId, RequestActivity>>;
}
