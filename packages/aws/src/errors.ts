import { ConflictError, MatineeError, TransientError } from '@matinee/core';

const throttles = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  // The tagging API's spelling of throttling.
  'ThrottledException',
  // ELBv2: another change to the same resource is still being applied.
  'PriorRequestNotCompleteException',
  // The load balancer is full (100 target groups, or the listener's rule quota). Waking at capacity puts
  // another preview to sleep first; its rule and group go within seconds, so trying again succeeds.
  'TooManyTargetGroupsException',
  'TooManyTargetGroups',
  'TooManyRulesException',
  'TooManyRules',
  // Server-side faults by name: a mocked or re-thrown error may carry no HTTP status.
  'ServerException',
  'InternalFailure',
  'InternalException',
  'InternalServiceException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);

/**
 * SDK errors become domain errors at this edge: a lost condition is a ConflictError, throttling and 5xx
 * are TransientError (the caller or the bus retries), everything else a MatineeError naming the call.
 */
export function fromAws(error: unknown, call: string): Error {
  if (error instanceof MatineeError) return error;
  const name = (error as { name?: string }).name ?? '';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'ConditionalCheckFailedException')
    return new ConflictError(`${call}: condition failed`, { cause: error });
  if (throttles.has(name) || status >= 500)
    return new TransientError(`${call}: ${name || status} ${message}`, { cause: error });
  return new MatineeError(`${call} failed: ${name ? `${name}: ` : ''}${message}`, { cause: error });
}

/** Runs an SDK call, mapping its errors with `fromAws`. */
export async function aws<T>(call: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw fromAws(error, call);
  }
}

/** Whether `error` is the named AWS exception (by its name, which survives the SDK's class hierarchy). */
export function isAwsError(error: unknown, ...names: string[]): boolean {
  const name = (error as { name?: string }).name;
  return Boolean(name && names.includes(name));
}
