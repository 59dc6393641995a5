import { environmentId, onPullRequest, respondToDashboard, respondToWake } from '@matinee/core';
import { describe, expect, it } from 'vitest';
import { facts } from '../support/environments.ts';
import { harness } from '../support/harness.ts';

const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.preview.example.com';
const path = (action: string) => `/api/environments/${encodeURIComponent(ID)}/${action}`;

async function opened(access: 'link' | 'public' = 'link') {
  const h = harness({ access });
  await onPullRequest(h.deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await h.drain();
  return h;
}

async function share(h: ReturnType<typeof harness>, query = '') {
  const answer = await respondToDashboard(h.deps, {
    method: 'POST',
    path: `${path('share')}${query}`,
    title: 'x',
  });
  return { status: answer?.status, body: JSON.parse(answer?.body ?? '{}') };
}

const open = (h: ReturnType<typeof harness>, url: string) =>
  respondToWake(h.deps, {
    method: 'GET',
    host: HOST,
    path: url.slice(url.indexOf('/', 'https://'.length)),
    accept: 'text/html',
    origin: `https://${HOST}`,
  });

describe('share links from the dashboard', () => {
  it('opens a private preview until it expires, setting the cookie no longer than that', async () => {
    const h = await opened();

    const shared = await share(h, '?hours=2');

    expect(shared.status).toBe(201);
    expect(shared.body.url).toMatch(
      /^https:\/\/fix-login-pr42\.preview\.example\.com\/\?matinee_token=\d+-[0-9a-f]{40}$/,
    );
    const first = await open(h, shared.body.url);
    expect(first.status).toBe(303);
    expect(first.headers['set-cookie']).toContain('Max-Age=7200;');
    h.clock.advance(2 * 3_600_000 + 1000);
    expect((await open(h, shared.body.url)).status).toBe(401);
  });

  it('is withdrawn by a new link', async () => {
    const h = await opened();
    const shared = await share(h);

    const rotated = await respondToDashboard(h.deps, {
      method: 'POST',
      path: path('rotate-link'),
      title: 'x',
    });

    expect(rotated?.status).toBe(202);
    expect((await open(h, shared.body.url)).status).toBe(401);
  });

  it('is refused for a public preview, and for a duration out of range', async () => {
    expect((await share(await opened('public'))).status).toBe(400);
    const h = await opened();
    for (const query of ['?hours=0', '?hours=721', '?hours=1.5', '?hours=', '?hours=x'])
      expect((await share(h, query)).status).toBe(400);
  });
});
