import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { EventBridgeBus, reconcileRequestedDetail, reconcileRequestedEvent } from '@matinee/aws';
import { environmentId, TransientError } from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';

const ids = (count: number) => Array.from({ length: count }, (_, i) => environmentId('acme/web', i + 1));

function setup() {
  const eventbridge = new EventBridgeClient({ region: 'eu-west-1' });
  const mock = mockClient(eventbridge);
  return { mock, bus: new EventBridgeBus({ eventbridge, busName: 'matinee-test', retryDelayMs: 0 }) };
}

type PutEventsInput = { Entries: PutEventsRequestEntry[] };
const allAccepted = (input: PutEventsInput) => ({
  FailedEntryCount: 0,
  Entries: input.Entries.map((_, i) => ({ EventId: `e${i}` })),
});

describe('EventBridgeBus', () => {
  it('puts one reconcile-requested event per environment on the bus', async () => {
    const { mock, bus } = setup();
    mock.on(PutEventsCommand).callsFake(allAccepted);

    await bus.requestReconcile([environmentId('acme/web', 42)], 'pull request opened');

    expect(mock.commandCalls(PutEventsCommand)[0]?.args[0].input).toEqual({
      Entries: [
        {
          EventBusName: 'matinee-test',
          Source: 'matinee',
          DetailType: 'environment.reconcile-requested',
          Detail: JSON.stringify({ id: 'acme/web#42', reason: 'pull request opened' }),
        },
      ],
    });
  });

  it('sends ten entries per call', async () => {
    const { mock, bus } = setup();
    mock.on(PutEventsCommand).callsFake(allAccepted);

    await bus.requestReconcile(ids(23), 'resync');

    expect(mock.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries?.length)).toEqual([
      10, 10, 3,
    ]);
  });

  it('sends a repeated id once', async () => {
    const { mock, bus } = setup();
    mock.on(PutEventsCommand).callsFake(allAccepted);

    await bus.requestReconcile([...ids(2), ...ids(2)], 'resync');

    expect(mock.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries).toHaveLength(2);
  });

  it('retries only the entries EventBridge reported failed', async () => {
    const { mock, bus } = setup();
    mock
      .on(PutEventsCommand)
      .callsFakeOnce((input: PutEventsInput) => ({
        FailedEntryCount: 1,
        Entries: input.Entries.map((_, i) =>
          i === 1 ? { ErrorCode: 'InternalFailure' } : { EventId: `e${i}` },
        ),
      }))
      .callsFake(allAccepted);

    await bus.requestReconcile(ids(3), 'sweep');

    const retried = mock.commandCalls(PutEventsCommand)[1]?.args[0].input.Entries ?? [];
    expect(retried.map((entry) => JSON.parse(entry.Detail ?? '{}').id)).toEqual(['acme/web#2']);
  });

  it('gives up after three retries with a TransientError naming the environments', async () => {
    const { mock, bus } = setup();
    mock.on(PutEventsCommand).callsFake((input: PutEventsInput) => ({
      FailedEntryCount: input.Entries.length,
      Entries: input.Entries.map(() => ({ ErrorCode: 'ThrottlingException' })),
    }));

    const error = await bus.requestReconcile(ids(2), 'sweep').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TransientError);
    expect(String(error)).toContain('acme/web#1, acme/web#2');
    expect(mock.commandCalls(PutEventsCommand)).toHaveLength(4);
  });

  it('turns a throttled call into a TransientError', async () => {
    const { mock, bus } = setup();
    mock
      .on(PutEventsCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }));

    await expect(bus.requestReconcile(ids(1), 'sweep')).rejects.toBeInstanceOf(TransientError);
  });
});

describe('reconcile-requested events', () => {
  it('parse back into the environment id and reason that were sent', () => {
    const event = {
      source: 'matinee',
      'detail-type': 'environment.reconcile-requested',
      detail: { id: 'acme/web#42', reason: 'wake' },
    };

    expect(reconcileRequestedEvent.parse(event).detail).toEqual({
      id: environmentId('acme/web', 42),
      reason: 'wake',
    });
  });

  it('reject an id that is not a normalized environment id', () => {
    expect(reconcileRequestedDetail.safeParse({ id: 'Acme/Web#42', reason: 'wake' }).success).toBe(false);
    expect(reconcileRequestedDetail.safeParse({ id: 'acme/web', reason: 'wake' }).success).toBe(false);
  });
});
