import { ConflictError, MatineeError, TransientError, UserError } from '@matinee/core';

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
  // The listener's rule quota (adjustable): another preview's rule going to sleep frees one.
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
 * Limits that waiting does not lift: Matinee makes room before it attaches a target group (makeRoom), so
 * meeting one of these means target groups it does not manage fill the ALB or the account. Never retried as
 * transient: the environment fails with the limit named.
 */
const capacityLimits: Record<string, string> = {
  TooManyUniqueTargetGroupsPerLoadBalancer:
    "the load balancer already forwards to 100 target groups, its hard limit (Matinee's awake previews, the wake function's, and any others on it)",
  TooManyTargetGroups: "the account's limit of target groups in this region (3,000 by default) is reached",
  TooManyTargetGroupsException:
    "the account's limit of target groups in this region (3,000 by default) is reached",
};

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
  const limit = capacityLimits[name];
  if (limit) return new CapacityError(`${call}: ${limit} (${name})`, { cause: error });
  if (throttles.has(name) || status >= 500)
    return new TransientError(`${call}: ${name || status} ${message}`, { cause: error });
  return new MatineeError(`${call} failed: ${name ? `${name}: ` : ''}${message}`, { cause: error });
}

/** An AWS limit reached that no retry lifts; shown on the environment, which fails (a UserError). */
export class CapacityError extends UserError {}

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
