import { publicReason } from '@matinee/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/**
 * A failure's reason is shown on the preview's public page: account ids and ARNs (and the environment's
 * own names) must be gone from it, wherever they stand in it and whatever stands next to them.
 */

const accountId = fc.stringMatching(/^\d{12}$/);
/** Text as it surrounds ids in real reasons: words, digits, dots, slashes, colons, underscores, anything. */
const around = fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[\w.:/@-]{0,40}$/));
const partition = fc.constantFrom('aws', 'aws-cn', 'aws-us-gov', 'aws-iso-b');
const service = fc.constantFrom('iam', 'ecr', 'ecs', 'elasticloadbalancing', 's3', 'sts');
const region = fc.constantFrom('', 'us-east-1', 'eu-west-1', 'cn-north-1');
const resource = fc.stringMatching(/^[\w/:.*+=@-]{1,60}$/);
const arn = fc
  .tuple(partition, service, region, fc.option(accountId, { nil: '' }), resource)
  .map(([p, s, r, a, res]) => `arn:${p}:${s}:${r}:${a}:${res}`);

describe('publicReason', () => {
  it.each([
    ['an ECR registry host', 'pull 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1 failed'],
    ['an id glued to letters', 'account acct123456789012 denied'],
    ['an id after an underscore', 'role_123456789012_exec'],
    ['an id in a longer run of digits', 'request 91234567890123 failed'],
    ['a console-formatted id', 'account 1234-5678-9012 denied'],
    ['an URL-encoded ARN', 'arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fexec'],
  ])('removes the account id from %s', (_, reason) => {
    expect(publicReason(reason)).not.toMatch(/\d{4}-?\d{4}-?\d{4}/);
  });

  it.each([
    ['glued to a word', 'rolearn:aws:iam::123456789012:role/exec missing'],
    ['after an underscore', 'role_arn:aws:iam::123456789012:role/exec missing'],
    ['in GovCloud', 'assume arn:aws-us-gov:iam::123456789012:role/exec failed'],
    ['without an account (S3)', 'read arn:aws:s3:::secret-shop-assets/role/exec failed'],
    ['in brackets', 'denied [arn:aws:iam::123456789012:role/exec]'],
  ])('removes an ARN %s', (_, reason) => {
    const shown = publicReason(reason);
    expect(shown).not.toContain('role/exec');
    expect(shown).not.toContain('123456789012');
  });

  it('keeps what the reason means', () => {
    expect(
      publicReason(
        'CannotPullContainerError: pull 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:abc: not found',
      ),
    ).toMatch(/^CannotPullContainerError: pull … not found$/);
    expect(publicReason('Essential container in task exited')).toBe('Essential container in task exited');
    expect(publicReason('stopped 3 times: Task failed ELB health checks')).toBe(
      'stopped 3 times: Task failed ELB health checks',
    );
  });

  it('never leaves an account id embedded in any text', () => {
    fc.assert(
      fc.property(around, accountId, around, (before, id, after) => {
        expect(publicReason(`${before}${id}${after}`)).not.toContain(id);
      }),
      { numRuns: 2000 },
    );
  });

  it('never leaves an ARN, nor the account in it, embedded in any text', () => {
    fc.assert(
      fc.property(around, arn, around, (before, value, after) => {
        const shown = publicReason(`${before}${value}${after}`);
        expect(shown).not.toContain(value);
        const account = value.split(':')[4];
        if (account) expect(shown).not.toContain(account);
      }),
      { numRuns: 2000 },
    );
  });

  it('never leaves the environment’s own names, in any case', () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9/._-]{3,30}$/);
    fc.assert(
      fc.property(around, name, around, fc.boolean(), (before, secret, after, upper) => {
        const written = upper ? secret.toUpperCase() : secret;
        const shown = publicReason(`${before}${written}${after}`, [secret]).toLowerCase();
        expect(shown).not.toContain(secret.toLowerCase());
      }),
      { numRuns: 1000 },
    );
  });

  it('shows a sentence or two, not a log', () => {
    expect(publicReason('x'.repeat(5000))).toHaveLength(1001);
  });

  it('changes nothing in text without ids, ARNs, references or names', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z ,:()'-]{0,80}$/), (text) => {
        expect(publicReason(text)).toBe(text);
      }),
    );
  });
});
