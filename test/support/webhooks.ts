import { randomUUID } from 'node:crypto';
import examples from '@octokit/webhooks-examples';
import { sign } from '@octokit/webhooks-methods';

export const WEBHOOK_SECRET = 'It\u2019s a Secret to Everybody';

/** A deep copy of GitHub's own example payload for `event` (and `action`), to adapt where a test needs. */
// biome-ignore lint/suspicious/noExplicitAny: example payloads are GitHub's JSON; tests adapt fields freely.
export function example(event: string, action?: string): any {
  const found = examples
    .find((e) => e.name === event)
    ?.examples.find((e) => !action || (e as { action?: string }).action === action);
  if (!found) throw new Error(`no example for ${event}${action ? `.${action}` : ''}`);
  return structuredClone(found);
}

/** The request GitHub would send: the JSON body and its headers, signed with `secret`. */
export async function delivery(
  event: string,
  payload: unknown,
  options: { secret?: string; id?: string; body?: string } = {},
): Promise<{ headers: Record<string, string>; body: string }> {
  const body = options.body ?? JSON.stringify(payload);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/044aadd',
      'x-github-event': event,
      'x-github-delivery': options.id ?? randomUUID(),
      'x-hub-signature-256': await sign(options.secret ?? WEBHOOK_SECRET, body),
    },
  };
}
