import {
  environmentId,
  type LogReader,
  onPullRequest,
  respondToLostRequest,
  type WakeHttpRequest,
} from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

/** A request the app stopped answering: what the visitor gets instead of a bare 502, by who they are. */
const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.preview.example.com';
const logs: LogReader = {
  locate: () => ({ path: '/logs/app.log' }),
  tail: async () => ['Killed: out of memory'],
};

async function ready(access: 'public' | 'link') {
  const h = harness({ access });
  const deps = { ...h.deps, logs };
  await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await h.drain();
  h.cloud.startTasks();
  await h.reconcile(ID);
  const env = await h.store.get(ID);
  return { deps, cookie: `matinee_${env?.slug}=${env?.accessSecret}` };
}

const request = (overrides: Partial<WakeHttpRequest> = {}): WakeHttpRequest => ({
  method: 'GET',
  host: HOST,
  path: '/checkout',
  accept: 'text/html',
  origin: `https://${HOST}`,
  ...overrides,
});

describe('a request the app stopped answering', () => {
  it('shows a viewer the link let in the failed page with the app’s last words, and a reload', async () => {
    const { deps, cookie } = await ready('link');

    const answer = await respondToLostRequest(deps, request({ headers: { cookie } }));

    expect(answer.status).toBe(502);
    expect(answer.headers['x-frame-options']).toBe('DENY');
    expect(answer.body).toContain('The preview stopped answering');
    expect(answer.body).toContain('Killed: out of memory');
    expect(answer.body).toContain('acme/web#42');
    expect(answer.body).not.toContain('/__matinee/retry');
  });

  it('tells anyone with a public preview’s URL that it stopped, and nothing of the app or the pull request', async () => {
    const { deps } = await ready('public');

    const answer = await respondToLostRequest(deps, request());

    expect(answer.status).toBe(502);
    expect(answer.body).toContain('The app stopped answering this request');
    expect(answer.body).not.toContain('Killed');
    expect(answer.body).not.toContain('acme/web');
  });

  it('answers other clients with JSON', async () => {
    const { deps } = await ready('public');

    const answer = await respondToLostRequest(deps, request({ accept: 'application/json' }));

    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body)).toMatchObject({ state: 'failed', ready: false });
  });
});
