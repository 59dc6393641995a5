/** The log ports: where an app's output is, and its end. */
import type { ResourceNames } from '../environment/naming.ts';

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
