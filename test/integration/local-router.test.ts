import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import {
  type EnvironmentId,
  environmentId,
  MemoryRateLimiter,
  onPullRequest,
  publishFeedback,
  reconcile,
  type Settings,
  type WakeLimits,
} from '@matinee/core';
import { appBaseEnv, createRouter, InProcessBus, ProcessCloud } from '@matinee/local';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { facts } from '../support/environments.ts';
import { FakeSourceControl, InMemoryStore, MemoryLogger } from '../support/fakes.ts';
import { hostRequest } from '../support/http.ts';
import { until } from '../support/until.ts';

const HELLO = resolve(import.meta.dirname, '../../examples/hello');
const FIXTURES = resolve(import.meta.dirname, '../fixtures');
const HELLO_CONFIG = `app: { image: x, port: 3000, health: /health }\nidle: 20s\nlocal: { command: node server.js, cwd: ${HELLO} }`;
const STREAM_CONFIG = `app: { image: x, port: 3000, health: /health }\nlocal: { command: node stream-app.js, cwd: ${FIXTURES} }`;
const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.localhost';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(config = HELLO_CONFIG) {
  const log = new MemoryLogger();
  const store = new InMemoryStore();
  const source = new FakeSourceControl();
  source.setConfig('acme/web', config);
  const clock = { now: () => new Date() };
  let port = 0;
  const settings: Settings = { stage: 'local', domain: 'localhost', scheme: 'http' };
  const deps = {
    store,
    source,
    clock,
    log,
    settings,
    bus: undefined as unknown as InProcessBus,
    runtime: undefined as unknown as ProcessCloud,
    router: undefined as unknown as ProcessCloud,
    activity: undefined as unknown as ProcessCloud,
    limiter: new MemoryRateLimiter(clock),
    limits: undefined as Partial<WakeLimits> | undefined,
  };
  const cloud = new ProcessCloud({
    logDir: resolve(import.meta.dirname, '../../.matinee/test-logs'),
    defaultCwd: HELLO,
    baseEnv: appBaseEnv(process.env),
    stopGraceMs: 2000,
    onTaskEvent: () => void bus.requestReconcile([ID]),
  });
  const bus = new InProcessBus(async (id: EnvironmentId) => {
    await reconcile(deps, id);
    await publishFeedback(deps, id);
  }, log);
  Object.assign(deps, { bus, runtime: cloud, router: cloud, activity: cloud });
  const server = createRouter({
    cloud,
    wake: deps,
    dashboard: deps,
    webhook: async () => ({ status: 202, headers: {}, body: '{"status":"stub"}' }),
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  port = (server.address() as AddressInfo).port;
  settings.port = port;
  cleanups.push(async () => {
    await bus.close();
    await cloud.shutdown();
    await new Promise((done) => server.close(done));
  });
  return { deps, cloud, bus, port, store, source };
}

/** A WebSocket handshake for the preview's host, straight over TCP; resolves with the answer's head. */
function upgrade(port: number): Promise<string> {
  return new Promise((done, fail) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
    });
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
      if (text.includes('\r\n\r\n')) {
        socket.destroy();
        done(text);
      }
    });
    socket.on('end', () => done(text));
    socket.on('error', fail);
  });
}

/**
 * A WebSocket client by hand (RFC 6455): the handshake through the router to the app's /echo, then one
 * masked text frame, and the text of the frame that comes back.
 */
function webSocketEcho(port: number, text: string): Promise<{ handshake: string; echo: string }> {
  return new Promise((done, fail) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `GET /echo HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
    });
    let received = Buffer.alloc(0);
    let handshake: string | undefined;
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (handshake === undefined) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        handshake = received.subarray(0, end).toString();
        received = received.subarray(end + 4);
        if (!handshake.startsWith('HTTP/1.1 101 ')) {
          socket.destroy();
          return done({ handshake, echo: '' });
        }
        const payload = Buffer.from(text);
        const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
        const masked = payload.map((byte, i) => byte ^ (mask[i % 4] ?? 0));
        socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
      }
      const length = (received[1] ?? 0) & 0x7f;
      if (received.length < 2 + length) return;
      socket.destroy();
      done({ handshake, echo: received.subarray(2, 2 + length).toString() });
    });
    socket.on('end', () => done({ handshake: handshake ?? received.toString(), echo: '' }));
    socket.on('error', fail);
  });
}

/** Matinee with #42 opened and served through its host. */
async function served(config?: string) {
  const started = await start(config);
  const { deps } = started;
  await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await until('#42 ready', async () => (await deps.store.get(ID))?.observed.phase === 'ready');
  return started;
}

/** Matinee with #42 opened, served, then put to sleep: no process, no route. */
async function asleep() {
  const started = await served();
  const { deps, bus } = started;
  const env = await deps.store.get(ID);
  if (!env) throw new Error('no environment');
  await deps.store.save({ ...env, desired: { ...env.desired, phase: 'sleeping' } });
  await bus.requestReconcile([ID]);
  await bus.idle();
  return started;
}

describe('the local router', () => {
  it('serves a preview through its host once it is ready, and counts the request', async () => {
    const { port, cloud } = await served();

    const page = await hostRequest(port, `${HOST}:${port}`);

    expect(page.status).toBe(200);
    expect(page.body).toContain('Hello from <code>fix-login</code>');
    const counts = await cloud.requestActivity(
      [{ id: ID, host: HOST } as never],
      new Date(0),
      new Date(Date.now() + 1000),
    );
    expect(counts.get(ID)?.count).toBe(1);
  });

  it('answers a host without an environment with 404, and a closed one with 410', async () => {
    const { deps, port, bus } = await start();
    expect((await hostRequest(port, 'nobody-pr1.localhost')).status).toBe(404);
    await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
    await onPullRequest(deps, {
      repo: 'acme/web',
      number: 42,
      action: 'closed',
      facts: facts({ open: false, updatedAt: '2026-11-02T10:00:00Z' }),
    });
    await bus.idle();
    expect((await hostRequest(port, HOST, '/', { headers: { accept: 'text/html' } })).status).toBe(410);
  });

  it('wakes a sleeping preview: a waking page for browsers, 503 + Retry-After for others, then the app', async () => {
    const { port, cloud } = await asleep();
    expect(cloud.processes()).toEqual([]);

    const api = await hostRequest(port, HOST, '/', { headers: { accept: 'application/json' } });
    expect(api.status).toBe(503);
    expect(api.headers['retry-after']).toBeDefined();
    const browser = await hostRequest(port, HOST, '/', { headers: { accept: 'text/html' } });
    expect(browser.body).toContain('Waking up');

    await until(
      'the router to get there',
      async () => (await hostRequest(port, HOST)).body.includes('Hello from') || undefined,
    );
  });

  it('lists environments and runs dashboard actions through the JSON API', async () => {
    const { deps, port } = await served();

    const list = JSON.parse((await hostRequest(port, `localhost:${port}`, '/api/environments')).body);
    expect(list).toEqual([
      expect.objectContaining({ id: ID, state: 'ready', url: `http://${HOST}:${port}` }),
    ]);

    const sleep = await hostRequest(port, 'localhost', `/api/environments/${encodeURIComponent(ID)}/sleep`, {
      method: 'POST',
    });
    expect(sleep.status).toBe(202);
    await until(
      'the router to get there',
      async () => (await deps.store.get(ID))?.observed.phase === 'sleeping',
    );
    expect(
      (
        await hostRequest(port, 'localhost', `/api/environments/${encodeURIComponent(ID)}/explode`, {
          method: 'POST',
        })
      ).status,
    ).toBe(400);
    expect((await hostRequest(port, 'localhost', '/')).body).toContain('<table>');
  });

  it('passes WebSocket upgrades through to the preview, and its messages both ways', async () => {
    const { port } = await served(STREAM_CONFIG);

    const { handshake, echo } = await webSocketEcho(port, 'hello through the router');

    expect(handshake).toMatch(/^HTTP\/1\.1 101 /);
    // The app's answer to this key (RFC 6455's example): the handshake reached it and came back whole.
    expect(handshake).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(echo).toBe('hello through the router');
  });

  it('refuses dashboard actions posted from another site, and takes them from its own pages', async () => {
    const { deps, port } = await served();
    const sleep = (headers: Record<string, string>) =>
      hostRequest(port, `localhost:${port}`, `/api/environments/${encodeURIComponent(ID)}/sleep`, {
        method: 'POST',
        headers,
      });

    const forged = await sleep({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' });
    expect(forged.status).toBe(403);
    expect((await deps.store.get(ID))?.desired.phase).toBe('running');

    expect((await sleep({ 'sec-fetch-site': 'same-origin' })).status).toBe(202);
    expect((await deps.store.get(ID))?.desired.phase).toBe('sleeping');
  });

  it('streams Server-Sent Events, and closes the stream to the app when the browser goes away', async () => {
    const { port, cloud } = await served(STREAM_CONFIG);
    const appPort = cloud.route(HOST);
    const streamsAtApp = async () =>
      Number(await (await fetch(`http://127.0.0.1:${appPort}/streams`)).text());

    const firstEvent = await new Promise<string>((done, fail) => {
      const req = request({ host: '127.0.0.1', port, path: '/events', headers: { host: HOST } }, (res) => {
        res.once('data', (chunk: Buffer) => {
          done(chunk.toString());
          req.destroy();
        });
      });
      req.on('error', () => {});
      req.on('timeout', () => fail(new Error('no event')));
      req.end();
    });

    expect(firstEvent).toMatch(/^data: \d+/);
    await until('the router to get there', async () => (await streamsAtApp()) === 0 || undefined);
  });

  it('wakes a sleeping preview on a WebSocket upgrade and tells the client to retry', async () => {
    const { deps, port, cloud } = await asleep();

    const answer = await upgrade(port);

    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    expect(answer.toLowerCase()).toContain('retry-after:');
    expect((await deps.store.get(ID))?.desired.phase).toBe('running');
    await until('the router to get there', () => cloud.processes().find((p) => p.healthy));
  });

  it('counts wakes against the address the request came from, and answers 429 over the limit', async () => {
    const { deps, port, bus } = await asleep();
    deps.limits = { perPreview: { count: 1, windowSeconds: 600 } };
    const take = vi.spyOn(deps.limiter, 'take');

    expect((await hostRequest(port, HOST, '/', { headers: { accept: 'text/html' } })).status).toBe(200);
    expect(take.mock.calls.map((call) => call[0])).toEqual(['wake client 127.0.0.1', `wake env ${ID}`]);
    await until('#42 ready', async () => (await deps.store.get(ID))?.observed.phase === 'ready');
    const env = await deps.store.get(ID);
    if (!env) throw new Error('no environment');
    await deps.store.save({ ...env, desired: { ...env.desired, phase: 'sleeping' } });
    await bus.requestReconcile([ID]);
    await bus.idle();

    const refused = await hostRequest(port, HOST, '/', { headers: { accept: 'text/html' } });

    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await deps.store.get(ID))?.desired.phase).toBe('sleeping');
  });

  it("refuses a preview's retry posted from another site", async () => {
    // Asleep, so Matinee answers for the host (a preview that is up gets the path itself).
    const { port } = await asleep();

    const forged = await hostRequest(port, HOST, '/__matinee/retry', {
      method: 'POST',
      headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
    });

    expect(forged.status).toBe(403);
  });

  it('counts only requests that reach the app as activity, not the waking page', async () => {
    const { port, cloud } = await asleep();

    await hostRequest(port, HOST, '/__matinee/status');
    await hostRequest(port, 'nobody-pr1.localhost');

    const counts = await cloud.requestActivity(
      [{ id: ID, host: HOST } as never],
      new Date(0),
      new Date(Date.now() + 60_000),
    );
    expect(counts.get(ID)?.count).toBe(0);
  });

  it('shows on the dashboard the last request the router served, and refuses a garbled id', async () => {
    const { port } = await served();
    const before = Date.now();

    await hostRequest(port, HOST, '/');

    const [view] = JSON.parse((await hostRequest(port, `localhost:${port}`, '/api/environments')).body);
    expect(Date.parse(view.lastRequestAt)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    const one = JSON.parse(
      (await hostRequest(port, `localhost:${port}`, `/api/environments/${encodeURIComponent(ID)}`)).body,
    );
    expect(one.lastRequestAt).toBe(view.lastRequestAt);
    expect((await hostRequest(port, `localhost:${port}`, '/api/environments/%E0%A4%A')).status).toBe(400);
  });
});
