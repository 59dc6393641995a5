import type { AccessMode } from './access/mode.ts';
import type { ConfigDefaults } from './config/config.ts';
import type { Environment, EnvironmentId, Resources } from './environment/environment.ts';
import type { ResourceNames } from './environment/naming.ts';
import type { StatusReport } from './feedback/status-report.ts';

/**
 * Persistence of environments. Every write is conditional: `create` fails with ConflictError when the id
 * exists, `save` when the stored `version` is not the one the caller read. Hosts are unique.
 */
export interface EnvironmentStore {
  get(id: EnvironmentId): Promise<Environment | undefined>;
  getByHost(host: string): Promise<Environment | undefined>;
  listByRepo(repo: string): Promise<Environment[]>;
  /** Only environments that hold, or are about to hold, a task (`countsAsAwake`): a sparse index, so cost grows with awake ones. */
  listAwake(): Promise<Environment[]>;
  listAll(): Promise<Environment[]>;
  /**
   * Creates the environment with the first of `slugs` whose host is free, and returns it as stored
   * (version 1). ConflictError when the id already exists.
   */
  create(
    env: Omit<Environment, 'slug' | 'host' | 'version'>,
    slugs: string[],
    domain: string,
  ): Promise<Environment>;
  /** Writes `env` if the stored version is still `env.version`; returns it with the next version. */
  save(env: Environment): Promise<Environment>;
  /** Remembers a webhook delivery id; false when it was already remembered (a redelivery). */
  claimDelivery(deliveryId: string, ttlSeconds: number): Promise<boolean>;
  /** Forgets a delivery whose handling failed, so that GitHub's redelivery is processed. */
  releaseDelivery(deliveryId: string): Promise<void>;
  /**
   * Remembers that a command comment is being obeyed (`key` from `commentKey`); false when it already was,
   * however its event arrived again (a replay may carry a new delivery id).
   */
  claimComment(key: string, ttlSeconds: number): Promise<boolean>;
  /** Forgets a comment whose command failed, so that it can be obeyed when it comes again. */
  releaseComment(key: string): Promise<void>;
}

/** Which environment a cloud call is about, and the names of its resources. */
export interface EnvironmentRef {
  id: EnvironmentId;
  host: string;
  names: ResourceNames;
  /** Tags (stage, environment id, host) that the orphan collector finds resources by. */
  tags: Record<string, string>;
  /** What the environment last recorded (an adapter may skip a lookup with them; never trusted blindly). */
  known: Resources;
}

export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  env: Record<string, string>;
  /** Only the app container has one. */
  port?: number;
  essential: boolean;
  /** Containers this one waits for (ECS `dependsOn`). */
  dependsOn?: { container: string; condition: 'START' | 'HEALTHY' | 'COMPLETE' | 'SUCCESS' }[];
}

/** What to run for one commit and config: everything a runtime needs, rendered from `.matinee.yml`. */
export interface TaskSpec {
  /** Identifies the sha and config a task definition was made from; equal revision, equal task. */
  revision: string;
  sha: string;
  containers: ContainerSpec[];
  cpu: number;
  memory: number;
  port: number;
  healthPath: string;
  spot: boolean;
  /** Run after each start of the task (sidecar databases start empty, so after every wake too). */
  seed?: string[];
  /** For local mode: the app as a process. */
  local?: { command: string[]; cwd?: string };
  /** The environment's volumes, each mounted in one container (and the app's in the seed's too). */
  volumes?: TaskVolume[];
}

/** A volume in a task: `.matinee.yml`'s entry and, once the volume exists, what the runtime mounts. */
export interface TaskVolume {
  name: string;
  container: string;
  path: string;
  uid?: number;
  gid?: number;
  /** From `Volumes`: a directory locally, an EFS access point id on AWS. */
  source?: string;
}

/** A volume of an environment that exists, and what a task mounts it by. */
export interface VolumeHandle {
  name: string;
  source: string;
}

/**
 * Per-environment volumes whose data outlives tasks: kept across sleep, wake and redeploy, deleted with the
 * environment. Each call is idempotent.
 */
export interface Volumes {
  /** The volumes of `ref` that exist. */
  describe(ref: EnvironmentRef): Promise<VolumeHandle[]>;
  /** Creates the volumes of `ref` that do not exist yet (owned by `uid`/`gid` where given); returns all of them. */
  ensure(ref: EnvironmentRef, volumes: TaskVolume[]): Promise<VolumeHandle[]>;
  /** Deletes the data in the named volumes, keeping the volumes. Their tasks are stopped first. */
  empty(ref: EnvironmentRef, names: string[]): Promise<void>;
  /** Deletes every volume of `ref`, its data included. Absent already is success. */
  remove(ref: EnvironmentRef): Promise<void>;
}

export interface ServiceState {
  serviceArn: string;
  desiredCount: number;
  /** Running tasks of the current revision (the primary deployment), not of one being replaced. */
  runningCount: number;
  /** The revision of the task definition the service runs (undefined when not made by Matinee). */
  revision?: string;
  taskDefinitionArn: string;
  /** The latest reason ECS gave for a stopped task, if any. */
  lastStoppedReason?: string;
}

export interface Runtime {
  describe(ref: EnvironmentRef): Promise<{ service?: ServiceState; revisions: number }>;
  /** Registers (or finds) the task definition of `spec.revision`. Idempotent. */
  registerRevision(ref: EnvironmentRef, spec: TaskSpec): Promise<{ taskDefinitionArn: string }>;
  /** Creates the service, or updates it to this task definition and count. Idempotent. */
  ensureService(
    ref: EnvironmentRef,
    input: { taskDefinitionArn: string; targetGroupArn: string; desiredCount: number; spec: TaskSpec },
  ): Promise<{ serviceArn: string }>;
  scaleService(ref: EnvironmentRef, desiredCount: number): Promise<void>;
  /** Deletes the service (stopping its tasks). Absent already is success. */
  deleteService(ref: EnvironmentRef): Promise<void>;
  /** Deregisters every task definition revision of the environment. */
  deregisterRevisions(ref: EnvironmentRef): Promise<void>;
}

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

export interface Bus {
  /** Asks for `reconcile(id)` to run soon. Duplicates are harmless: reconcile is idempotent. */
  requestReconcile(ids: EnvironmentId[], reason: string): Promise<void>;
}

export interface OpenPullRequest {
  number: number;
  headSha: string;
}

export type RepoPermission = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface SourceControl {
  /** The text of `.matinee.yml` at `sha`, or undefined when the file does not exist there. */
  readConfig(repo: string, sha: string): Promise<string | undefined>;
  listOpenPullRequests(repo: string): Promise<OpenPullRequest[]>;
  /** A user's role on the repository. */
  permission(repo: string, user: string): Promise<RepoPermission>;
  /** Makes the pull request's sticky comment and deployment status say `report`. Idempotent. */
  publish(report: StatusReport): Promise<void>;
  /** Answers a command comment with a reaction. */
  react(repo: string, commentId: number, reaction: '+1' | 'confused'): Promise<void>;
}

/** What a one-time sign-in code was issued for: the preview's host, and the page to land on there. */
export interface SignInGrant {
  host: string;
  path: string;
}

/**
 * One-time codes of `github` mode's sign-in (the stage's domain hands one to a preview host). `consume`
 * returns a code's grant once: it deletes the code with a conditional write, so a second use, from anywhere,
 * gets nothing; so does an expired or unknown code.
 */
export interface SignInCodes {
  issue(code: string, grant: SignInGrant, expiresAt: Date): Promise<void>;
  consume(code: string, now: Date): Promise<SignInGrant | undefined>;
}

/** Who signed in with GitHub, and their permission on one repository (`none` when GitHub shows none). */
export type GithubSignInResult =
  | { kind: 'signed-in'; login: string; permission: RepoPermission }
  /** GitHub refused the code (used, expired, or not for this client): the sign-in must start again. */
  | { kind: 'refused' };

/**
 * GitHub's OAuth, for `github` mode: exchanges the code GitHub's callback carries for the user's token,
 * asks who the user is and their permission on `repo` (GitHub's collaborator-permission API), and forgets
 * the token: it is never returned, stored or logged.
 */
export interface GithubSignIn {
  /** The address of GitHub's authorization page for this client, `state` and callback. */
  authorizeUrl(input: { redirectUri: string; state: string }): string;
  check(input: { code: string; redirectUri: string; repo: string }): Promise<GithubSignInResult>;
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

/** Which environment's app output, and of which task when it matters (the one that stopped, on AWS). */
export interface LogRef {
  names: ResourceNames;
  /** A task id (the last part of its ARN): each ECS task writes its own log stream. */
  task?: string;
}

/** Where someone reads an app's whole output: a console link (AWS) or a file on this machine (local). */
export interface LogLocation {
  url?: string;
  path?: string;
}

/** Says where an app's output is, without reading it: no I/O, so a comment can carry the link. */
export interface LogLocator {
  locate(ref: LogRef): LogLocation;
}

/** Reads the end of an app's output (CloudWatch Logs on AWS, the log file locally). */
export interface LogReader extends LogLocator {
  /** The last `lines` lines the app wrote, oldest first, as written: callers clean them (log-tail.ts). */
  tail(ref: LogRef, lines: number): Promise<string[]>;
}

/**
 * One image that `.matinee.yml` `build:` asks for: a container and how to build it, from the config validated
 * at the commit (never from a stored record).
 */
export interface ImageBuildSpec {
  /** `app` or the sidecar's name. */
  container: string;
  /** Relative to the repository root, inside it (the config schema refuses absolute paths and `..`). */
  dockerfile: string;
  /** Relative to the repository root, inside it; `.` is the root. */
  context: string;
  target?: string;
  /** `--build-arg`s, placeholders filled. Never secrets: the config refuses secret-looking ones. */
  args: Record<string, string>;
}

/** Build the images of one environment's commit: all its `build:` containers in one build. */
export interface ImageBuildRequest {
  ref: EnvironmentRef;
  repo: string;
  sha: string;
  /**
   * 1 for a commit's first build; a retry after a failed build asks again with the next number. With
   * `ref.id` and `sha`, what makes `start` idempotent: same three, same build.
   */
  attempt: number;
  images: ImageBuildSpec[];
}

/**
 * Where a build stands. `queued`: accepted but not running yet (CodeBuild accounts often run one build at
 * a time): said as such, never taken for stuck. `failed` covers stopped, timed out and faulted builds.
 */
export type ImageBuildStatus =
  | { state: 'queued' | 'building' | 'succeeded'; log?: LogLocation }
  | {
      state: 'failed';
      /** One line for the PR author: `docker build exited with 1`, `timed out after 60 min`, `stopped`. */
      reason: string;
      /** The last lines of the build's log, oldest first, as written: callers clean and escape them. */
      logTail: string[];
      log?: LogLocation;
    };

/**
 * Builds the images of `.matinee.yml` `build:` (CodeBuild on AWS, `docker build` locally). The build state
 * comes back as a reconcile of the environment (on AWS, CodeBuild's state-change event, matched to the
 * environment by the build's `ref.tags`), which asks `status`.
 */
export interface ImageBuilder {
  /**
   * Starts the build of `request`, or finds the one already started for the same environment, sha and
   * attempt; returns its id. Fails with UserError for what the PR author must fix (source too large, no
   * Docker engine locally), TransientError for what a retry may fix.
   */
  start(request: ImageBuildRequest): Promise<{ id: string; log?: LogLocation }>;
  /**
   * Where build `id` is; undefined when the builder knows no such build (expired, or never started). `id`
   * (here and in `stop`) is read back from the store: an adapter uses it only once it is one of its own
   * (its project's, its format), and answers undefined otherwise.
   */
  status(id: string): Promise<ImageBuildStatus | undefined>;
  /** Stops build `id` (a newer push superseded it). Finished or unknown already is success. */
  stop(id: string): Promise<void>;
  /**
   * The image a successful build of `sha` pushed for `container`, as the runtime pulls it (on AWS
   * `<stage ECR repository>:<env>-<sha>`, with the container's name for a sidecar). No I/O: the task's
   * image is derived, never read back from a stored record.
   */
  imageOf(ref: EnvironmentRef, sha: string, container: string): string;
  /** Deletes every image built for `ref`'s environment, when it is removed. None left is success. */
  removeImages?(ref: EnvironmentRef): Promise<void>;
  /** Deletes the built images of every environment slug not in `keep` (the resync's orphans); returns them. */
  pruneImages?(keep: ReadonlySet<string>): Promise<string[]>;
}

/**
 * The repository's files at a commit, as GitHub's tarball, downloaded with the installation token: the token
 * stays in the control plane (the AWS builder puts the tarball in its source bucket, CodeBuild never sees
 * the token). Core does not call it; the builder does.
 */
export interface SourceArchive {
  /**
   * A stream of the gzip'd tarball of `repo` at `sha`. Reading past `maxBytes` fails with a UserError naming
   * the limit, so an oversized repository fails its environment with a clear reason.
   */
  download(repo: string, sha: string, maxBytes: number): Promise<AsyncIterable<Uint8Array>>;
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
