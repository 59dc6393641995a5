import { createWebhookReceiver } from '@matinee/github';
import { functionUrlEvent, rawBody } from './lib/events.ts';
import { type FunctionUrlResult, jsonResult } from './lib/http.ts';
import {
  type BasePart,
  basePart,
  type GithubPart,
  githubPart,
  linkedSettings,
  once,
} from './lib/platform.ts';

type Deps = BasePart & GithubPart;
const receivers = new WeakMap<Deps, ReturnType<typeof createWebhookReceiver>>();

/** GitHub → Function URL → verify, record, ask for a reconcile. Never calls ECS or the ALB itself. */
export async function receiveGithubWebhook(deps: Deps, event: unknown): Promise<FunctionUrlResult> {
  const request = functionUrlEvent.safeParse(event);
  if (!request.success) return jsonResult(400, { status: 'rejected', message: 'not a Function URL request' });
  let receive = receivers.get(deps);
  if (!receive) {
    receive = createWebhookReceiver(deps.config.webhookSecret ?? '');
    receivers.set(deps, receive);
  }
  const { headers, body, isBase64Encoded } = request.data;
  const response = await receive(deps, { headers, body: rawBody(body, isBase64Encoded) });
  return jsonResult(response.status, response.body);
}

const deps = once(() => {
  const config = linkedSettings({ github: true, webhookSecret: true });
  return { ...basePart(config), ...githubPart(config) };
});
export const handler = (event: unknown) => receiveGithubWebhook(deps(), event);
