import {
  type CommandDeps,
  MatineeError,
  onBranchDeleted,
  onCommand,
  onPullRequest,
  onWorkflowRun,
  type RecordDeps,
} from '@matinee/core';
import { Webhooks } from '@octokit/webhooks';
import { MalformedPayload, webhookAction } from './webhook-events.ts';

/** An error with the HTTP status the sender should get. */
export class WebhookError extends MatineeError {
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type WebhookDeps = RecordDeps & CommandDeps;

export interface WebhookRequest {
  /** Header names in lowercase. */
  headers: Record<string, string | undefined>;
  /** The body exactly as received: the signature covers these bytes. */
  body: string;
}

export interface WebhookResponse {
  status: number;
  body: Record<string, unknown>;
}

/** How long a delivery id is remembered: GitHub redelivers for up to a few days. */
export const DELIVERY_TTL_SECONDS = 7 * 86_400;

/**
 * Verifies, decodes and records one GitHub webhook delivery. Knows nothing of Lambda or Node's HTTP
 * server: both call it. The signature is checked on the raw body before anything is parsed; a bad one
 * writes nothing. A redelivery (same X-GitHub-Delivery) does nothing twice.
 */
export function createWebhookReceiver(secret: string) {
  const webhooks = new Webhooks({ secret });

  return async function receive(deps: WebhookDeps, request: WebhookRequest): Promise<WebhookResponse> {
    try {
      return await handle(deps, request);
    } catch (error) {
      if (error instanceof WebhookError)
        return { status: error.status, body: { status: 'rejected', message: error.message } };
      deps.log.error('webhook handling failed', {
        delivery: request.headers['x-github-delivery'],
        event: request.headers['x-github-event'],
        error: error instanceof Error ? error.message : String(error),
      });
      return { status: 500, body: { status: 'error', message: 'internal error; GitHub may redeliver' } };
    }
  };

  async function handle(deps: WebhookDeps, { headers, body }: WebhookRequest): Promise<WebhookResponse> {
    const signature = headers['x-hub-signature-256'];
    if (!signature) throw new WebhookError(401, 'missing X-Hub-Signature-256');
    if (!(await webhooks.verify(body, signature).catch(() => false)))
      throw new WebhookError(401, 'signature does not match');
    const event = headers['x-github-event'];
    const delivery = headers['x-github-delivery'];
    if (!event || !delivery) throw new WebhookError(400, 'missing X-GitHub-Event or X-GitHub-Delivery');
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch (error) {
      throw new WebhookError(400, 'body is not JSON', { cause: error });
    }
    let action: ReturnType<typeof webhookAction>;
    try {
      action = webhookAction(event, payload);
    } catch (error) {
      if (error instanceof MalformedPayload) throw new WebhookError(400, error.message, { cause: error });
      throw error;
    }
    if (action.kind === 'ping') return { status: 200, body: { status: 'pong' } };
    if (action.kind === 'ignored') return { status: 202, body: { status: 'ignored', reason: action.reason } };

    if (!(await deps.store.claimDelivery(delivery, DELIVERY_TTL_SECONDS))) {
      return { status: 200, body: { status: 'duplicate', delivery } };
    }
    try {
      return { status: 200, body: await dispatch(deps, action) };
    } catch (error) {
      // Forget the delivery so that GitHub's redelivery is processed instead of skipped as a duplicate.
      await deps.store.releaseDelivery(delivery).catch(() => {});
      throw error;
    }
  }
}

async function dispatch(
  deps: WebhookDeps,
  action: Exclude<ReturnType<typeof webhookAction>, { kind: 'ping' | 'ignored' }>,
): Promise<Record<string, unknown>> {
  switch (action.kind) {
    case 'pull-request':
      return { ...(await onPullRequest(deps, action.change)) };
    case 'branch-deleted': {
      const deleted = await onBranchDeleted(deps, action.repo, action.branch);
      return { status: deleted.length ? 'recorded' : 'ignored', deleted };
    }
    case 'command':
      return { ...(await onCommand(deps, action.comment)) };
    case 'workflow-run': {
      const waiting = await onWorkflowRun(deps, action.run);
      return { status: waiting.length ? 'recorded' : 'ignored', environments: waiting };
    }
  }
}
