import { type CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Build } from '@aws-sdk/client-codebuild';
import { fromAws, isAwsError } from './errors.ts';

/** What the build phases are called for the pull request's author. */
const PHASES: Record<string, string> = {
  PROVISIONING: 'starting the build machine',
  DOWNLOAD_SOURCE: 'starting the build',
  INSTALL: 'starting the build',
  PRE_BUILD: 'fetching the source',
  BUILD: 'docker build',
  POST_BUILD: 'finishing the build',
  QUEUED: 'waiting in the queue',
};

/**
 * One line saying why a finished build did not succeed: the phase that failed and CodeBuild's message for it
 * (`docker build failed: COMMAND_EXECUTION_ERROR: … exit status 1`), a timeout, or a stop.
 */
export function buildFailure(build: Build): string {
  if (build.buildStatus === 'STOPPED') return 'the build was stopped';
  if (build.buildStatus === 'TIMED_OUT') {
    const queued =
      build.currentPhase === 'QUEUED' ||
      build.phases?.some((p) => p.phaseType === 'QUEUED' && p.phaseStatus === 'TIMED_OUT');
    return queued
      ? `the build waited in CodeBuild's queue longer than ${build.queuedTimeoutInMinutes ?? '?'} minutes`
      : `the build took longer than ${build.timeoutInMinutes ?? '?'} minutes`;
  }
  const phase = build.phases?.find(
    (p) =>
      p.phaseStatus && !['SUCCEEDED', 'IN_PROGRESS'].includes(p.phaseStatus) && p.phaseType !== 'COMPLETED',
  );
  const context = phase?.contexts?.find((c) => c.message || c.statusCode);
  const what = PHASES[phase?.phaseType ?? ''] ?? 'the build';
  const detail = [context?.statusCode, context?.message].filter(Boolean).join(': ');
  if (build.buildStatus === 'FAULT') return `CodeBuild failed (${what})${detail ? `: ${detail}` : ''}`;
  return `${what} failed${detail ? `: ${detail}` : ''}`;
}

/**
 * The last `lines` lines of the build's log, oldest first, as CodeBuild wrote them (callers clean them): one
 * GetLogEvents on the build's stream. A build that never started has none.
 */
export async function buildLogTail(
  logs: CloudWatchLogsClient,
  build: Build,
  lines: number,
): Promise<string[]> {
  const { groupName, streamName } = build.logs ?? {};
  if (!groupName || !streamName) return [];
  try {
    const { events } = await logs.send(
      new GetLogEventsCommand({
        logGroupName: groupName,
        logStreamName: streamName,
        startFromHead: false,
        limit: Math.max(1, Math.min(lines, 10_000)),
      }),
    );
    // CodeBuild writes a line per event, newline included.
    return (events ?? []).map((event) => (event.message ?? '').replace(/\r?\n$/, ''));
  } catch (error) {
    if (isAwsError(error, 'ResourceNotFoundException')) return [];
    throw fromAws(error, `GetLogEvents ${streamName}`);
  }
}
