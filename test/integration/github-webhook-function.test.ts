import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { type Environment, environmentId } from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { receiveGithubWebhook } from '../../functions/github-webhook.ts';
import { serveLambda } from '../support/lambda-http.ts';
import { testPlatform } from '../support/platform.ts';
import { delivery, example } from '../support/webhooks.ts';

const SECRET = 'webhook-secret';
const ID = environmentId('Codertocat/Hello-World', 2);
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** functions/github-webhook.ts behind real HTTP, as its Function URL; the store on DynamoDB Local. */
async function deployed(options: { base64?: boolean } = {}) {
  const eventbridge = mockClient(EventBridgeClient);
  eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
  // Mocking the class mocks the client the platform made for itself.
  const { platform } = await testPlatform(undefined, { webhookSecret: SECRET });
  const server = await serveLambda('function-url', (event) => receiveGithubWebhook(platform, event), options);
  closers.push(async () => {
    await server.close();
    eventbridge.restore();
  });
  const post = async (request: { headers: Record<string, string>; body: string }) => {
    const response = await fetch(`${server.url}/`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const events = () =>
    eventbridge.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);
  return { platform, post, events };
}

describe('the github-webhook function over HTTP', () => {
  it('records an opened pull request and asks EventBridge for a reconcile', async () => {
    const { platform, post, events } = await deployed();

    const response = await post(
      await delivery('pull_request', example('pull_request', 'opened'), { secret: SECRET }),
    );

    expect(response).toEqual({ status: 200, body: { status: 'recorded', id: ID, desired: 'running' } });
    expect((await platform.store.get(ID))?.desired.phase).toBe('running');
    expect(events()).toEqual([
      expect.objectContaining({
        Source: 'matinee',
        DetailType: 'environment.reconcile-requested',
        EventBusName: 'matinee-test',
        Detail: JSON.stringify({ id: ID, reason: 'pull request opened' }),
      }),
    ]);
  });

  it('verifies the signature on the raw body when the Function URL base64-encodes it', async () => {
    const { post } = await deployed({ base64: true });

    const response = await post(
      await delivery('pull_request', example('pull_request', 'opened'), { secret: SECRET }),
    );

    expect(response.status).toBe(200);
  });

  it('answers 401 to a bad signature and writes nothing', async () => {
    const { platform, post, events } = await deployed();

    const response = await post(
      await delivery('pull_request', example('pull_request', 'opened'), { secret: 'not-the-secret' }),
    );

    expect(response.status).toBe(401);
    expect(await platform.store.get(ID)).toBeUndefined();
    expect(events()).toEqual([]);
  });

  it('answers 400 to a body that is not JSON, 202 to events it does not act on, 200 to ping', async () => {
    const { post } = await deployed();

    const garbled = await delivery('pull_request', undefined, { secret: SECRET, body: '{"action":' });
    expect((await post(garbled)).status).toBe(400);
    expect((await post(await delivery('star', example('star', 'created'), { secret: SECRET }))).status).toBe(
      202,
    );
    expect((await post(await delivery('ping', example('ping'), { secret: SECRET }))).status).toBe(200);
  });

  it('does a redelivery nothing twice', async () => {
    const { post, events } = await deployed();
    const once = await delivery('pull_request', example('pull_request', 'opened'), { secret: SECRET });

    await post(once);
    const again = await post(once);

    expect(again.body).toMatchObject({ status: 'duplicate' });
    expect(events()).toHaveLength(1);
  });

  describe('records what GitHub’s own signed payloads want, after', () => {
    const OPENED_SHA = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821'; // the example's head
    const NEWER_SHA = '1'.repeat(40);
    const OLDER_SHA = '2'.repeat(40);
    type Delivery = [event: string, payload: unknown];

    const opened = (): Delivery => ['pull_request', example('pull_request', 'opened')];
    const pushed = (sha: string, at: string): Delivery => {
      const payload = example('pull_request', 'synchronize');
      payload.pull_request.head.sha = sha;
      payload.pull_request.updated_at = at;
      payload.after = sha;
      return ['pull_request', payload];
    };
    const closed = (merged: boolean): Delivery => {
      const payload = example('pull_request', 'closed');
      payload.pull_request.merged = merged;
      payload.pull_request.merged_at = merged ? payload.pull_request.closed_at : null;
      return ['pull_request', payload];
    };
    // The examples delete a tag; the same payloads for the pull request's branch, `changes`.
    const branchDeleted = (): Delivery => [
      'delete',
      { ...example('delete'), ref: 'changes', ref_type: 'branch' },
    ];
    const branchPushedAway = (): Delivery => [
      'push',
      { ...example('push'), ref: 'refs/heads/changes', deleted: true, after: '0'.repeat(40) },
    ];

    it.each<[string, Delivery[], Partial<Environment['desired']>]>([
      ['opened', [opened()], { phase: 'running', sha: OPENED_SHA, reason: 'pull request opened' }],
      [
        'synchronize',
        [opened(), pushed(NEWER_SHA, '2019-05-15T15:30:00Z')],
        { phase: 'running', sha: NEWER_SHA, reason: 'pushed 1111111' },
      ],
      [
        'an older synchronize after a newer one',
        [opened(), pushed(NEWER_SHA, '2019-05-15T15:40:00Z'), pushed(OLDER_SHA, '2019-05-15T15:30:00Z')],
        { phase: 'running', sha: NEWER_SHA, reason: 'pushed 1111111' },
      ],
      ['closed, merged', [opened(), closed(true)], { phase: 'deleted', reason: 'pull request merged' }],
      ['closed, not merged', [opened(), closed(false)], { phase: 'deleted', reason: 'pull request closed' }],
      [
        'delete of its branch',
        [opened(), branchDeleted()],
        { phase: 'deleted', reason: 'branch changes deleted' },
      ],
      [
        'push deleting its branch',
        [opened(), branchPushedAway()],
        { phase: 'deleted', reason: 'branch changes deleted' },
      ],
    ])('%s', async (_, deliveries, desired) => {
      const { platform, post } = await deployed();

      for (const [event, payload] of deliveries) {
        expect((await post(await delivery(event, payload, { secret: SECRET }))).status).toBe(200);
      }

      expect((await platform.store.get(ID))?.desired).toMatchObject(desired);
    });
  });
});
