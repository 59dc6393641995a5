import type { ChildProcess } from 'node:child_process';
import type { TaskSpec } from '@matinee/core';
import type { ProcessIdentity } from './process-table.ts';

/** A registered task definition, as local mode keeps it: in memory, gone when Matinee stops. */
export interface Revision {
  arn: string;
  spec: TaskSpec;
  tags: Record<string, string>;
}

/** One running task of a service: the app's process (or its `docker run`), its port and its health. */
export interface Task {
  /** Unique across restarts of `npm start` (crashes are counted once per task, in the stored record). */
  arn: string;
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
  /** The app's and the seed's process as the OS knows them (pid and start time), for the data dir's record. */
  identity?: ProcessIdentity;
  seedIdentity?: ProcessIdentity;
}
