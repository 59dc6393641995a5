import { environmentId } from '@matinee/core';
import { createWebhookReceiver } from '@matinee/github';
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.ts';
import { delivery, example, WEBHOOK_SECRET } from '../support/webhooks.ts';

// GitHub's examples are Codertocat/Hello-World#2 on branch `changes`.
const ID = environmentId('Codertocat/Hello-World', 2);
const receive = createWebhookReceiver(WEBHOOK_SECRET);

function setup() {
  const h = harness();
  h.source.setConfig('codertocat/hello-world', 'app: { image: x, port: 3000 }');
  return { h, send: async (req: Awaited<ReturnType<typeof delivery>>) => receive(h.deps, req) };
}

/** `synchronize` to `sha`, as GitHub sends it at `updatedAt` (the example adapted). */
function pushed(sha: string, updatedAt: string) {
  const payload = example('pull_request', 'synchronize');
  payload.pull_request.head.sha = sha;
  payload.pull_request.updated_at = updatedAt;
  return payload;
}

describe('the GitHub webhook', () => {
  it('records an opened pull request as a running environment and asks for one reconcile', async () => {
    const { h, send } = setup();
    const response = await send(await delivery('pull_request', example('pull_request', 'opened')));
    expect(response).toEqual({ status: 200, body: { status: 'recorded', id: ID, desired: 'running' } });
    expect(await h.store.get(ID)).toMatchObject({
      host: 'changes-pr2.preview.example.com',
      pr: { branch: 'changes', fork: false, open: true },
    });
    expect(h.bus.ids).toEqual([ID]);
  });

  it('records the new commit of a push (synchronize)', async () => {
    const { h, send } = setup();
    await send(await delivery('pull_request', example('pull_request', 'opened')));
    await send(await delivery('pull_request', pushed('b'.repeat(40), '2019-05-15T15:25:00Z')));
    expect((await h.store.get(ID))?.desired.sha).toBe('b'.repeat(40));
  });

  it('ignores a push delivered after a newer one', async () => {
    const { h, send } = setup();
    await send(await delivery('pull_request', example('pull_request', 'opened')));
    await send(await delivery('pull_request', pushed('c'.repeat(40), '2019-05-15T15:30:00Z')));
    const late = await send(await delivery('pull_request', pushed('b'.repeat(40), '2019-05-15T15:25:00Z')));
    expect(late.body).toMatchObject({ status: 'ignored', reason: expect.stringMatching(/^stale delivery/) });
    expect((await h.store.get(ID))?.desired.sha).toBe('c'.repeat(40));
  });

  it.each([
    [true, 'pull request merged'],
    [false, 'pull request closed'],
  ])('wants the environment deleted when the pull request is closed (merged: %s)', async (merged, reason) => {
    const { h, send } = setup();
    await send(await delivery('pull_request', example('pull_request', 'opened')));
    const closed = example('pull_request', 'closed');
    closed.pull_request.merged = merged;
    await send(await delivery('pull_request', closed));
    expect((await h.store.get(ID))?.desired).toMatchObject({ phase: 'deleted', reason });
  });

  it('deletes the environment of a deleted branch (delete event)', async () => {
    const { h, send } = setup();
    await send(await delivery('pull_request', example('pull_request', 'opened')));
    const deleted = example('delete');
    Object.assign(deleted, { ref: 'changes', ref_type: 'branch' });
    const response = await send(await delivery('delete', deleted));
    expect(response.body).toEqual({ status: 'recorded', deleted: [ID] });
    expect((await h.store.get(ID))?.desired.phase).toBe('deleted');
  });

  it('deletes the environment of a deleted branch (push with deleted: true), and ignores deleted tags', async () => {
    const { h, send } = setup();
    await send(await delivery('pull_request', example('pull_request', 'opened')));
    const tag = example('push');
    Object.assign(tag, { ref: 'refs/tags/simple-tag', deleted: true });
    expect((await send(await delivery('push', tag))).status).toBe(202);
    const branch = example('push');
    Object.assign(branch, { ref: 'refs/heads/changes', deleted: true });
    await send(await delivery('push', branch));
    expect((await h.store.get(ID))?.desired.phase).toBe('deleted');
  });

  it('does nothing twice for a redelivery of the same delivery id', async () => {
    const { h, send } = setup();
    const opened = await delivery('pull_request', example('pull_request', 'opened'), { id: 'delivery-1' });
    await send(opened);
    const writes = h.store.writes;
    const again = await send(opened);
    expect(again).toEqual({ status: 200, body: { status: 'duplicate', delivery: 'delivery-1' } });
    expect(h.store.writes).toBe(writes);
    expect(h.bus.ids).toEqual([ID]);
  });

  it('rejects a bad signature with 401 and writes nothing', async () => {
    const { h, send } = setup();
    const forged = await delivery('pull_request', example('pull_request', 'opened'), { secret: 'guessed' });
    expect((await send(forged)).status).toBe(401);
    expect(h.store.writes).toBe(0);
    expect(h.store.deliveries.size).toBe(0);
  });

  it('rejects a missing signature with 401', async () => {
    const { send } = setup();
    const unsigned = await delivery('pull_request', example('pull_request', 'opened'));
    delete unsigned.headers['x-hub-signature-256'];
    expect((await send(unsigned)).status).toBe(401);
  });

  it('rejects a signed body that is not JSON with 400', async () => {
    const { h, send } = setup();
    const response = await send(await delivery('pull_request', null, { body: '{"action": "opened", ' }));
    expect(response).toMatchObject({ status: 400, body: { message: 'body is not JSON' } });
    expect(h.store.writes).toBe(0);
  });

  it('rejects a signed payload without the fields its event has, with 400', async () => {
    const { send } = setup();
    const response = await send(await delivery('pull_request', { action: 'opened', repository: {} }));
    expect(response.status).toBe(400);
    expect(response.body.message).toMatch(/^pull_request payload: /);
  });

  it('rejects a delivery without the event header with 400', async () => {
    const { send } = setup();
    const request = await delivery('pull_request', example('pull_request', 'opened'));
    delete request.headers['x-github-event'];
    expect((await send(request)).status).toBe(400);
  });

  it('answers ping with 200, and events and actions it does not handle with 202, writing nothing', async () => {
    const { h, send } = setup();
    expect((await send(await delivery('ping', example('ping')))).status).toBe(200);
    expect((await send(await delivery('star', { action: 'created' }))).status).toBe(202);
    expect((await send(await delivery('pull_request', example('pull_request', 'assigned')))).status).toBe(
      202,
    );
    expect(h.store.writes).toBe(0);
    expect(h.store.deliveries.size).toBe(0);
  });

  it('forgets the delivery when handling fails, so that GitHub’s redelivery is processed', async () => {
    const { h, send } = setup();
    const opened = await delivery('pull_request', example('pull_request', 'opened'), { id: 'delivery-2' });
    const create = h.store.create.bind(h.store);
    h.store.create = async () => {
      throw new Error('DynamoDB unavailable');
    };
    expect((await send(opened)).status).toBe(500);
    h.store.create = create;
    expect((await send(opened)).body).toMatchObject({ status: 'recorded' });
    expect(h.log.text).not.toContain(WEBHOOK_SECRET);
  });

  it('records who added a label, for a fork’s deploy approval', async () => {
    const { h, send } = setup();
    const labeled = example('pull_request', 'labeled');
    labeled.label.name = 'matinee:deploy';
    labeled.pull_request.labels = [{ ...labeled.label }];
    await send(await delivery('pull_request', labeled));
    expect((await h.store.get(ID))?.pr.labeledBy).toEqual({ 'matinee:deploy': labeled.sender.login });
  });

  it('obeys a /matinee command from a writer on a pull request', async () => {
    const { h, send } = setup();
    await send(await delivery('pull_request', example('pull_request', 'opened')));
    h.source.permissions.set('Codertocat/Hello-World Codertocat', 'admin');
    const comment = example('issue_comment', 'created');
    comment.issue.number = 2;
    comment.issue.pull_request = { url: 'https://api.github.com/repos/Codertocat/Hello-World/pulls/2' };
    comment.comment.body = '/matinee sleep';
    comment.comment.created_at = h.clock.now().toISOString();
    const response = await send(await delivery('issue_comment', comment));
    expect(response.body).toEqual({ status: 'done', reply: 'going to sleep' });
    expect((await h.store.get(ID))?.desired.phase).toBe('sleeping');
  });

  it('records a completed workflow run for the environments of its commit', async () => {
    const { h, send } = setup();
    await send(await delivery('pull_request', example('pull_request', 'opened')));
    const run = example('workflow_run', 'completed');
    run.workflow_run.head_sha = (await h.store.get(ID))?.desired.sha;
    run.repository.full_name = 'Codertocat/Hello-World';
    run.workflow_run.name = 'build';
    run.workflow_run.conclusion = 'success';
    const response = await send(await delivery('workflow_run', run));
    expect(response.body).toMatchObject({ status: 'recorded', environments: [ID] });
  });
});
