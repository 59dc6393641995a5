import { CapacityError, fromAws } from '@matinee/aws';
import { ConflictError, MatineeError, TransientError, UserError } from '@matinee/core';
import { describe, expect, it } from 'vitest';

const sdkError = (name: string, httpStatusCode = 400) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode } });

describe('SDK errors at the adapter edge', () => {
  it('makes a lost condition a conflict', () => {
    expect(fromAws(sdkError('ConditionalCheckFailedException'), 'PutItem')).toBeInstanceOf(ConflictError);
  });

  it.each([
    [
      'TooManyUniqueTargetGroupsPerLoadBalancer',
      /CreateRule: the load balancer already forwards to 100 target groups/,
    ],
    ['TooManyTargetGroups', /CreateTargetGroup: the account's limit of target groups in this region/],
    ['TooManyTargetGroupsException', /the account's limit of target groups/],
  ])('makes %s a capacity failure naming the limit, never a silent retry', (name, message) => {
    const call = name.includes('Unique') ? 'CreateRule' : 'CreateTargetGroup';
    const mapped = fromAws(sdkError(name), call);
    expect(mapped).toBeInstanceOf(CapacityError);
    expect(mapped).toBeInstanceOf(UserError);
    expect(mapped).not.toBeInstanceOf(TransientError);
    expect(mapped.message).toMatch(message);
    expect(mapped.message).toContain(name);
  });

  it.each(['ThrottlingException', 'TooManyRulesException'])(
    'makes %s transient, so the reconcile is tried again',
    (name) => {
      const mapped = fromAws(sdkError(name), 'CreateTargetGroup');
      expect(mapped).toBeInstanceOf(TransientError);
      expect(mapped.message).toContain('CreateTargetGroup');
      expect((mapped as MatineeError).cause).toMatchObject({ name });
    },
  );

  it('makes a 5xx transient whatever its name', () => {
    expect(fromAws(sdkError('Whatever', 503), 'DescribeRules')).toBeInstanceOf(TransientError);
  });

  it('keeps anything else a plain error naming the call', () => {
    const mapped = fromAws(sdkError('InvalidParameterException'), 'CreateService');
    expect(mapped).toBeInstanceOf(MatineeError);
    expect(mapped).not.toBeInstanceOf(TransientError);
    expect(mapped.message).toBe(
      'CreateService failed: InvalidParameterException: InvalidParameterException happened',
    );
  });
});
