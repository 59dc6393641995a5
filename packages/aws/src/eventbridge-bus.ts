import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { type Bus, type EnvironmentId, TransientError } from '@matinee/core';
import { aws } from './errors.ts';
import {
  MATINEE_EVENT_SOURCE,
  RECONCILE_REQUESTED,
  type ReconcileRequestedDetail,
} from './reconcile-requested.ts';

export interface EventBridgeBusOptions {
  eventbridge: EventBridgeClient;
  busName: string;
  /** Wait before retrying entries EventBridge reported failed, doubled each time; 100 ms by default. */
  retryDelayMs?: number;
}

/** PutEvents takes at most this many entries per call. */
const ENTRIES_PER_CALL = 10;
/** Retries of entries PutEvents accepted the call for but reported failed (its partial failures). */
const RETRIES = 3;

/**
 * The `Bus` on EventBridge: one `environment.reconcile-requested` event per environment. A whole call that
 * fails (throttling) is a TransientError at once; entries that fail alone are retried a few times first.
 */
export class EventBridgeBus implements Bus {
  private readonly options: EventBridgeBusOptions;

  constructor(options: EventBridgeBusOptions) {
    this.options = options;
  }

  async requestReconcile(ids: EnvironmentId[], reason: string): Promise<void> {
    const unique = [...new Set(ids)];
    for (let start = 0; start < unique.length; start += ENTRIES_PER_CALL) {
      await this.put(unique.slice(start, start + ENTRIES_PER_CALL), reason);
    }
  }

  private async put(ids: EnvironmentId[], reason: string): Promise<void> {
    let pending = ids;
    for (let attempt = 0; attempt <= RETRIES; attempt++) {
      if (attempt > 0) await sleep((this.options.retryDelayMs ?? 100) * 2 ** (attempt - 1));
      const entries = pending.map((id) => this.entry(id, reason));
      const { FailedEntryCount, Entries } = await aws('PutEvents reconcile-requested', () =>
        this.options.eventbridge.send(new PutEventsCommand({ Entries: entries })),
      );
      if (!FailedEntryCount) return;
      // Results come back in the order of the entries sent; a failed one carries an ErrorCode.
      if (Entries) pending = pending.filter((_, index) => Entries[index]?.ErrorCode);
      if (pending.length === 0) return;
    }
    throw new TransientError(
      `EventBridge did not take reconcile requests for ${pending.join(', ')} after ${RETRIES} retries`,
    );
  }

  private entry(id: EnvironmentId, reason: string): PutEventsRequestEntry {
    const detail: ReconcileRequestedDetail = { id, reason };
    return {
      EventBusName: this.options.busName,
      Source: MATINEE_EVENT_SOURCE,
      DetailType: RECONCILE_REQUESTED,
      Detail: JSON.stringify(detail),
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
