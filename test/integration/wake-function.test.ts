import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DEFAULT_WAKE_LIMITS, environmentId } from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { serveDefaultRule } from '../../functions/wake.ts';
import { anEnvironment } from '../support/environments.ts';
import { hostRequest } from '../support/http.ts';
import { serveLambda } from '../support/lambda-http.ts';
import { testPlatform } from '../support/platform.ts';

const PASSWORD = 'correct-horse-battery';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** functions/wake.ts behind real HTTP as the ALB's Lambda target; the store on DynamoDB Local. */
async function deployed(dashboardPassword = PASSWORD) {
  const { platform } = await testPlatform(undefined, { dashboardPassword });
  const server = await serveLambda('alb', (event) => serveDefaultRule(platform, event));
  closers.push(server.close);
  return { platform, server };
}

const auth = (password: string) => `Basic ${Buffer.from(`me:${password}`).toString('base64')}`;

const request = hostRequest;

describe('the wake function as the ALB default rule', () => {
  it('serves the dashboard on the preview domain only with the password', async () => {
    const { server } = await deployed();

    const anonymous = await request(server.port, 'preview.example.com', '/');
    const signedIn = await request(server.port, 'preview.example.com', '/api/environments', {
      headers: { authorization: auth(PASSWORD) },
    });

    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toContain('Basic');
    expect(signedIn.status).toBe(200);
    expect(JSON.parse(signedIn.body)).toEqual([]);
  });

  it('keeps the dashboard off without a password, and refuses cross-site actions', async () => {
    const off = await deployed('');
    expect((await request(off.server.port, 'preview.example.com', '/')).status).toBe(404);

    const { server } = await deployed();
    const forged = await request(
      server.port,
      'preview.example.com',
      '/api/environments/acme%2Fweb%2342/sleep',
      {
        method: 'POST',
        headers: { authorization: auth(PASSWORD), origin: 'https://evil.example' },
      },
    );
    expect(forged.status).toBe(403);
  });

  it('answers an unknown preview host with a 404 page', async () => {
    const { server } = await deployed();

    const response = await request(server.port, 'nobody-pr9.preview.example.com', '/', {
      headers: { accept: 'text/html' },
    });

    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toContain('text/html');
  });
});

describe('the wake function’s limits', () => {
  /** Previews 1..count of acme/web, asleep, in the function's table; EventBridge mocked. */
  async function sleeping(count: number) {
    const eventbridge = mockClient(EventBridgeClient);
    eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    closers.push(async () => eventbridge.restore());
    const { platform, server } = await deployed();
    for (let n = 1; n <= count; n++) {
      const draft = anEnvironment({ id: environmentId('acme/web', n) });
      await platform.store.create(
        {
          ...draft,
          desired: { ...draft.desired, phase: 'sleeping' },
          observed: { phase: 'sleeping', resources: {}, since: draft.createdAt },
        },
        [`preview-${n}`],
        'preview.example.com',
      );
    }
    const woken = () =>
      eventbridge.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []).length;
    return { platform, server, woken };
  }

  /** What the ALB hands the function: whatever X-Forwarded-For the client sent, the connecting address appended. */
  const fromAlb = (sent: string, connecting: string) => ({
    accept: 'text/html',
    'x-forwarded-for': sent ? `${sent}, ${connecting}` : connecting,
  });

  it('limits a client by the address the ALB appended, however it spoofs X-Forwarded-For', async () => {
    const { platform, server, woken } = await sleeping(4);
    platform.limits = { ...DEFAULT_WAKE_LIMITS, perClient: { count: 2, windowSeconds: 600 } };

    const statuses = [];
    for (let n = 1; n <= 3; n++)
      statuses.push(
        (
          await request(server.port, `preview-${n}.preview.example.com`, '/', {
            headers: fromAlb(`10.9.8.${n}, 192.0.2.${n}`, '198.51.100.9'),
          })
        ).status,
      );
    const refused = await request(server.port, 'preview-3.preview.example.com', '/', {
      headers: fromAlb('203.0.113.50', '198.51.100.9'),
    });
    const someoneElse = await request(server.port, 'preview-4.preview.example.com', '/', {
      headers: fromAlb('198.51.100.9', '203.0.113.50'),
    });

    expect(statuses).toEqual([200, 200, 429]);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(someoneElse.status).toBe(200);
    expect((await platform.store.get(environmentId('acme/web', 3)))?.desired.phase).toBe('sleeping');
    expect(woken()).toBe(3);
  });

  it('refuses a retry posted from another site', async () => {
    const { server } = await sleeping(1);

    const forged = await request(server.port, 'preview-1.preview.example.com', '/__matinee/retry', {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });

    expect(forged.status).toBe(403);
  });
});
