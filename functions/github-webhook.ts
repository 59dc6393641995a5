import { createWebhookReceiver } from '@matinee/github';
import { functionUrlEvent, rawBody } from './lib/events.ts';
import { type FunctionUrlResult, jsonResult } from './lib/http.ts';
import { fromLinks, type Platform } from './lib/platform.ts';

const receivers = new WeakMap<Platform, ReturnType<typeof createWebhookReceiver>>();

/** GitHub → Function URL → verify, record, ask for a reconcile. Never calls ECS or the ALB itself. */
export async function receiveGithubWebhook(platform: Platform, event: unknown): Promise<FunctionUrlResult> {
  const request = functionUrlEvent.safeParse(event);
  if (!request.success) return jsonResult(400, { status: 'rejected', message: 'not a Function URL request' });
  let receive = receivers.get(platform);
  if (!receive) {
    receive = createWebhookReceiver(platform.config.webhookSecret ?? '');
    receivers.set(platform, receive);
  }
  const { headers, body, isBase64Encoded } = request.data;
  const response = await receive(platform, { headers, body: rawBody(body, isBase64Encoded) });
  return jsonResult(response.status, response.body);
}

export const handler = (event: unknown) =>
  receiveGithubWebhook(fromLinks({ github: true, webhookSecret: true }), event);
