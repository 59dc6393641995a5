import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { environmentId } from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { serveDefaultRule } from '../../functions/wake.ts';
import { anEnvironment } from '../support/environments.ts';
import { hostRequest as request } from '../support/http.ts';
import { serveLambda } from '../support/lambda-http.ts';
import { testPlatform } from '../support/platform.ts';

/**
 * functions/wake.ts behind real HTTP as the ALB's Lambda target, on a stage in link mode: what a request
 * that failed the host rule's cookie condition (or never had a rule: an asleep preview) gets. The store is
 * on DynamoDB Local; EventBridge, where a wake would go, is mocked and counted.
 */
const SECRET = '0123456789abcdef0123456789abcdef';
const OTHER_SECRET = 'fedcba9876543210fedcba9876543210';
const HOST = 'preview-1.preview.example.com';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function privateStage() {
  const eventbridge = mockClient(EventBridgeClient);
  eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
  closers.push(async () => eventbridge.restore());
  const { platform } = await testPlatform(undefined, { access: { mode: 'link' } });
  const server = await serveLambda('alb', (event) => serveDefaultRule(platform, event));
  closers.push(server.close);
  for (const [n, secret] of [
    [1, SECRET],
    [2, OTHER_SECRET],
  ] as const) {
    const draft = anEnvironment({ id: environmentId('acme/web', n) });
    await platform.store.create(
      {
        ...draft,
        accessSecret: secret,
        desired: { ...draft.desired, phase: 'sleeping' },
        observed: { phase: 'sleeping', resources: {}, since: draft.createdAt },
      },
      [`preview-${n}`],
      'preview.example.com',
    );
  }
  const woken = () =>
    eventbridge.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []).length;
  const phase = async () => (await platform.store.get(environmentId('acme/web', 1)))?.desired.phase;
  return { server, woken, phase };
}

describe('the wake function on a link-mode stage', () => {
  it('answers 401 without the cookie, and wakes nothing', async () => {
    const { server, woken, phase } = await privateStage();

    const page = await request(server.port, HOST, '/', { headers: { accept: 'text/html' } });
    const api = await request(server.port, HOST, '/api/orders');

    expect(page.status).toBe(401);
    expect(page.body).toContain('This preview is private');
    expect(page.body).not.toContain('acme/web');
    expect(api.status).toBe(401);
    expect(woken()).toBe(0);
    expect(await phase()).toBe('sleeping');
  });

  it('turns the link into the cookie and a 303 to the same URL without the token, waking nothing yet', async () => {
    const { server, woken } = await privateStage();

    const response = await request(server.port, HOST, `/orders?page=2&matinee_token=${SECRET}`, {
      headers: { accept: 'text/html' },
    });

    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/orders?page=2');
    const cookie = String(response.headers['set-cookie']);
    expect(cookie).toContain(`matinee_preview-1=${SECRET}`);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/Secure/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(woken()).toBe(0);
  });

  it('wakes the preview for a request with its cookie', async () => {
    const { server, woken, phase } = await privateStage();

    const response = await request(server.port, HOST, '/', {
      headers: { accept: 'text/html', cookie: `theme=dark; matinee_preview-1=${SECRET}` },
    });

    expect(response.status).toBe(200);
    expect(woken()).toBe(1);
    expect(await phase()).toBe('running');
  });

  it("refuses another preview's cookie, or a wrong token, and wakes nothing", async () => {
    const { server, woken } = await privateStage();

    const other = await request(server.port, HOST, '/', {
      headers: { accept: 'text/html', cookie: `matinee_preview-2=${OTHER_SECRET}` },
    });
    const wrong = await request(server.port, HOST, `/?matinee_token=${OTHER_SECRET}`, {
      headers: { accept: 'text/html' },
    });

    expect(other.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(woken()).toBe(0);
  });
});
