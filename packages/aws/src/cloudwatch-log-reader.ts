import { type CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { LogReader, LogRef } from '@matinee/core';
import { appLogStream, CloudWatchLogLinks, type CloudWatchLogLinksOptions } from './cloudwatch-log-links.ts';
import { fromAws, isAwsError } from './errors.ts';

/**
 * A preview's last lines of output from CloudWatch Logs (its containers log with the awslogs driver): one
 * GetLogEvents on the stopped task's stream, newest events first, at most `lines`. Without a task id there is
 * no stream to read (the log group's streams are listed only by name, never by recency): none.
 */
export class CloudWatchLogReader extends CloudWatchLogLinks implements LogReader {
  constructor(
    private readonly logs: CloudWatchLogsClient,
    options: CloudWatchLogLinksOptions,
  ) {
    super(options);
  }

  async tail(ref: LogRef, lines: number): Promise<string[]> {
    if (!ref.task) return [];
    const logStreamName = appLogStream({ ...ref, task: ref.task });
    try {
      const { events } = await this.logs.send(
        new GetLogEventsCommand({
          logGroupName: this.options.logGroup,
          logStreamName,
          startFromHead: false,
          limit: Math.max(1, Math.min(lines, 10_000)),
        }),
      );
      return (events ?? []).map((event) => event.message ?? '');
    } catch (error) {
      // A task that never started wrote nothing: its stream was never made.
      if (isAwsError(error, 'ResourceNotFoundException')) return [];
      throw fromAws(error, `GetLogEvents ${logStreamName}`);
    }
  }
}
