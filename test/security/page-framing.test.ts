import { onPullRequest, respondToWake, UserError, type WakeHttpRequest } from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

/**
 * Clickjacking on a preview's own pages: another site frames the waking or failed page (or the 401 page of a
 * private preview) under a decoy, so that a visitor's click presses Try again. Every page Matinee answers
 * refuses to be framed, as the dashboard does (test/security/dashboard-framing.test.ts proves that in Chromium).
 */
const REPO = 'acme/web';
const HOST = 'fix-login-pr42.preview.example.com';

const request = (overrides: Partial<WakeHttpRequest> = {}): WakeHttpRequest => ({
  method: 'GET',
  host: HOST,
  path: '/',
  accept: 'text/html,application/xhtml+xml',
  origin: `https://${HOST}`,
  client: '198.51.100.7',
  ...overrides,
});

function expectUnframeable(headers: Record<string, string>) {
  expect(headers['content-security-policy']).toBe("frame-ancestors 'none'");
  expect(headers['x-frame-options']).toBe('DENY');
}

async function opened(access: 'public' | 'link') {
  const h = harness({ access: { mode: access } } as never);
  await onPullRequest(h.deps, {
    repo: REPO,
    number: 42,
    action: 'opened',
    facts: facts({ branch: 'fix-login' }),
  });
  await h.drain();
  return h;
}

describe('a preview’s pages in another site’s frame', () => {
  it('the waking page refuses to be framed', async () => {
    const h = await opened('public');
    const page = await respondToWake(h.deps, request());
    expect(page.headers['content-type']).toContain('text/html');
    expectUnframeable(page.headers);
  });

  it('the failed page, whose Try again a decoy would press, refuses to be framed', async () => {
    const h = harness();
    h.cloud.failIn(2, 'before', new UserError('CannotPullContainerError: not found'));
    await onPullRequest(h.deps, {
      repo: REPO,
      number: 42,
      action: 'opened',
      facts: facts({ branch: 'fix-login' }),
    });
    await h.drain();
    const page = await respondToWake(h.deps, request());
    expect(page.body).toContain('Try again');
    expectUnframeable(page.headers);
  });

  it('an unknown host’s page and a private preview’s 401 page refuse to be framed', async () => {
    const h = await opened('link');
    const unknown = await respondToWake(h.deps, request({ host: 'nobody-pr1.preview.example.com' }));
    expectUnframeable(unknown.headers);
    const denied = await respondToWake(h.deps, request());
    expect(denied.status).toBe(401);
    expectUnframeable(denied.headers);
  });
});
