import { APP_CONTAINER, type LogLocation, type LogLocator, type LogRef } from '@matinee/core';

export interface CloudWatchLogLinksOptions {
  region: string;
  /** The stage's log group every preview container writes to (awslogs). */
  logGroup: string;
}

/** The console's fragment encoding: URI-encoded twice, `%` written as `$`. */
function consolePart(text: string): string {
  return encodeURIComponent(encodeURIComponent(text)).replace(/%/g, '$');
}

/**
 * The awslogs stream of the app container of one task: `<stream prefix>/<container>/<task id>`, the prefix
 * being the environment's service name (see EcsRuntime's log configuration).
 */
export function appLogStream(ref: LogRef & { task: string }): string {
  return `${ref.names.service}/${APP_CONTAINER}/${ref.task}`;
}

/**
 * Links to a preview's output in the CloudWatch console: the stopped task's stream when its id is known,
 * otherwise the log group filtered to the environment's streams. Made without a call, so every function that
 * writes the pull request comment can link there without any permission on the logs.
 */
export class CloudWatchLogLinks implements LogLocator {
  constructor(protected readonly options: CloudWatchLogLinksOptions) {}

  locate(ref: LogRef): LogLocation {
    const { region, logGroup } = this.options;
    const console = `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${encodeURIComponent(region)}`;
    const group = `#logsV2:log-groups/log-group/${consolePart(logGroup)}`;
    if (ref.task)
      return {
        url: `${console}${group}/log-events/${consolePart(appLogStream({ ...ref, task: ref.task }))}`,
      };
    return { url: `${console}${group}$3FlogStreamNameFilter$3D${consolePart(`${ref.names.service}/`)}` };
  }
}
