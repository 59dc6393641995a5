import { DynamoEnvironmentStore } from '@matinee/aws';
import { commentKey, environmentId, MAX_COMMAND_AGE_SECONDS, onCommand, onPullRequest } from '@matinee/core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsDeployment, pullRequest, REPO, SHA_1, serveRepo } from '../support/aws-deployment.ts';
import { localTable } from '../support/dynamo.ts';
import { facts } from '../support/environments.ts';
import { fakeAws } from '../support/fake-aws.ts';
import { FakeGithub } from '../support/fake-github.ts';
import { command } from '../support/github-events.ts';
import { harness } from '../support/harness.ts';

/**
 * A webhook's signature covers its body, not its delivery id or its age: whoever holds one signed comment
 * event (a log, a proxy, GitHub's own redelivery) can send it again under a new X-GitHub-Delivery. A
 * command comment is obeyed once, however often and however late its event arrives.
 */

let table: Awaited<ReturnType<typeof localTable>>;
beforeAll(async () => {
  table = await localTable();
});

function storeAt(now: { value: Date }) {
  return new DynamoEnvironmentStore({
    client: table.client,
    tableName: table.tableName,
    clock: () => now.value,
  });
}

describe('claiming a comment on DynamoDB Local', () => {
  it('claims a comment once', async () => {
    const store = storeAt({ value: new Date() });

    expect(await store.claimComment('acme/web/1001', 60)).toBe(true);
    expect(await store.claimComment('acme/web/1001', 60)).toBe(false);
  });

  it('lets exactly one of many concurrent claims of a comment win', async () => {
    const store = storeAt({ value: new Date() });

    const claims = await Promise.all(
      Array.from({ length: 8 }, () => store.claimComment('acme/web/1002', 60)),
    );

    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('claims a released comment again, for a command that failed', async () => {
    const store = storeAt({ value: new Date() });
    await store.claimComment('acme/web/1003', 60);

    await store.releaseComment('acme/web/1003');

    expect(await store.claimComment('acme/web/1003', 60)).toBe(true);
  });

  it('claims a comment again once its time to live has passed', async () => {
    const now = { value: new Date() };
    const store = storeAt(now);
    await store.claimComment('acme/web/1004', 60);

    now.value = new Date(now.value.getTime() + 61_000);

    expect(await store.claimComment('acme/web/1004', 60)).toBe(true);
  });

  it('keeps comments and deliveries apart, whatever their ids', async () => {
    const store = storeAt({ value: new Date() });
    await store.claimDelivery('acme/web/1005', 60);

    expect(await store.claimComment('acme/web/1005', 60)).toBe(true);
  });
});

describe('a command comment', () => {
  it('is obeyed once per repository and comment id, not once per delivery', async () => {
    const h = harness();
    h.source.permissions.set('acme/web dev', 'write');
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    const comment = { repo: 'acme/web', number: 42, commentId: 77, user: 'dev', body: '/matinee redeploy' };

    expect(await onCommand(h.deps, comment)).toMatchObject({ status: 'done' });
    expect(await onCommand(h.deps, { ...comment, repo: 'ACME/Web' })).toEqual({
      status: 'ignored',
      reason: 'this comment was already obeyed',
    });
    expect((await h.store.get(environmentId('acme/web', 42)))?.deployNonce).toBe(1);
    expect(h.store.comments).toEqual(new Set([commentKey('acme/web', 77)]));
  });

  it('is not obeyed when its event arrives after the comment ids are forgotten', async () => {
    const h = harness();
    h.source.permissions.set('acme/web dev', 'write');
    await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    const written = new Date(h.clock.now().getTime() - (MAX_COMMAND_AGE_SECONDS + 60) * 1000);

    const outcome = await onCommand(h.deps, {
      repo: 'acme/web',
      number: 42,
      commentId: 78,
      user: 'dev',
      body: '/matinee redeploy',
      createdAt: written.toISOString(),
    });

    expect(outcome).toMatchObject({ status: 'ignored' });
    expect((await h.store.get(environmentId('acme/web', 42)))?.deployNonce).toBeUndefined();
    expect(h.source.reactions).toEqual([]);
  });
});

describe('a replayed comment event through the webhook function', () => {
  let github: FakeGithub;
  beforeEach(async () => {
    github = await new FakeGithub().start();
    serveRepo(github);
    github.permissions.set(`${REPO} maintainer`, 'maintain');
  });
  afterEach(() => github.stop());

  it('runs its command once, though each delivery carries a new X-GitHub-Delivery', async () => {
    const aws = fakeAws();
    const d = awsDeployment(aws, github, await localTable());
    await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-11-22T10:00:00Z')),
    );
    const redeploy = command('/matinee redeploy');
    await d.step('redeploy', () => d.webhook('issue_comment', redeploy));
    const revisions = aws.taskDefinitions.length;

    const replay = await d.webhook('issue_comment', redeploy);
    await d.settle();

    expect(JSON.parse(replay.body)).toEqual({ status: 'ignored', reason: 'this comment was already obeyed' });
    expect(aws.taskDefinitions).toHaveLength(revisions);
    expect(github.reactions).toEqual([{ comment: redeploy.comment.id, content: '+1' }]);
  });
});
