/** The runtime port: task definitions, services and volumes (ECS and EFS on AWS, processes locally). */
import type { EnvironmentId, Resources } from '../environment/environment.ts';
import type { ResourceNames } from '../environment/naming.ts';

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
  /**
   * Who the task runs as when its volumes admit one identity only (on AWS the environment's own IAM role,
   * which alone may mount its access points); the runtime's default identity otherwise.
   */
  identity?: string;
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
  /**
   * The identity a task must run as to mount it (on AWS the environment's own IAM role), once that identity
   * is ready to; absent locally, and on AWS while it still has to be made or brought up to date (which
   * `ensure` does, before the task definition that names it).
   */
  identity?: string;
}

/**
 * Per-environment volumes whose data outlives tasks: kept across sleep, wake and redeploy, deleted with the
 * environment. Each call is idempotent.
 */
export interface Volumes {
  /** The volumes of `ref` that exist. */
  describe(ref: EnvironmentRef): Promise<VolumeHandle[]>;
  /**
   * Creates the volumes of `ref` that do not exist yet (owned by `uid`/`gid` where given), replaces those whose
   * owner changed (their data stays) and readies what mounting them takes; returns all of them.
   */
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
