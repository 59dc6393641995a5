import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import {
  type EnvironmentId,
  environmentId,
  MemoryRateLimiter,
  onPullRequest,
  reconcile,
  type Settings,
} from '@matinee/core';
import { appBaseEnv, createRouter, InProcessBus, ProcessCloud } from '@matinee/local';
import { afterEach, describe, expect, it } from 'vitest';
import { facts } from '../support/environments.ts';
import { FakeSourceControl, InMemoryStore, MemoryLogger } from '../support/fakes.ts';
import { hostRequest } from '../support/http.ts';
import { until } from '../support/until.ts';

/** The local router enforcing `link` mode over real HTTP, in front of examples/hello as a real process. */
const HELLO = resolve(import.meta.dirname, '../../examples/hello');
const CONFIG = `app: { image: x, port: 3000, health: /health }\nlocal: { command: node server.js, cwd: ${HELLO} }`;
const FIXTURES = resolve(import.meta.dirname, '../fixtures');
/** An app that answers with the Cookie header it was given. */
const ECHO_COOKIE = `app: { image: x, port: 3000, health: /health }\nlocal: { command: node echo-cookie-app.js, cwd: ${FIXTURES} }`;
const ID = environmentId('acme/web', 42);
const HOST = 'fix-login-pr42.localhost';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(config = CONFIG) {
  const log = new MemoryLogger();
  const store = new InMemoryStore();
  const source = new FakeSourceControl();
  source.setConfig('acme/web', config);
  const clock = { now: () => new Date() };
  const settings: Settings = { stage: 'local', domain: 'localhost', scheme: 'http', access: 'link' };
  const cloud = new ProcessCloud({
    logDir: resolve(import.meta.dirname, '../../.matinee/test-logs'),
    defaultCwd: HELLO,
    baseEnv: appBaseEnv(process.env),
    stopGraceMs: 2000,
    onTaskEvent: () => void bus.requestReconcile([ID]),
  });
  const deps = {
    store,
    source,
    clock,
    log,
    settings,
    runtime: cloud,
    router: cloud,
    activity: cloud,
    limiter: new MemoryRateLimiter(clock),
    bus: undefined as unknown as InProcessBus,
  };
  const bus = new InProcessBus(async (id: EnvironmentId) => void (await reconcile(deps, id)), log);
  deps.bus = bus;
  const server = createRouter({
    cloud,
    wake: deps,
    dashboard: deps,
    webhook: async () => ({ status: 202, headers: {}, body: '{}' }),
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const port = (server.address() as AddressInfo).port;
  settings.port = port;
  cleanups.push(async () => {
    await bus.close();
    await cloud.shutdown();
    await new Promise((done) => server.close(done));
  });
  await onPullRequest(deps, { repo: 'acme/web', number: 42, action: 'opened', facts: facts() });
  await until('#42 ready', async () => (await store.get(ID))?.observed.phase === 'ready');
  const env = await store.get(ID);
  const secret = env?.accessSecret ?? '';
  return { deps, cloud, bus, port, store, log, secret, cookie: `matinee_${env?.slug}=${secret}` };
}

function upgrade(port: number, cookie?: string): Promise<string> {
  return new Promise((done, fail) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: ${HOST}\r\n${cookie ? `Cookie: ${cookie}\r\n` : ''}Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
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

const browser = { accept: 'text/html' };

describe('the local router in link mode', () => {
  it('answers an awake private preview with 401 without its cookie, never reaching the app', async () => {
    const { port, cloud, secret } = await start();

    const page = await hostRequest(port, HOST, '/', { headers: browser });
    const api = await hostRequest(port, HOST, '/');
    const wrong = await hostRequest(port, HOST, '/', {
      headers: { ...browser, cookie: `matinee_fix-login-pr42=${'f'.repeat(32)}` },
    });
    const socket = await upgrade(port);

    expect(page.status).toBe(401);
    expect(page.body).toContain('This preview is private');
    expect(page.body).not.toContain('Hello from');
    expect(api.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(socket).toMatch(/^HTTP\/1\.1 401/);
    for (const answer of [page, api, wrong]) expect(answer.body).not.toContain(secret);
    const counts = await cloud.requestActivity([{ id: ID, host: HOST } as never], new Date(0), new Date());
    expect(counts.get(ID)?.count ?? 0).toBe(0);
  });

  it('sets the cookie from the link, redirects to the clean URL, then forwards with the cookie', async () => {
    const { port, secret, cookie } = await start();

    const link = await hostRequest(port, HOST, `/?tab=2&matinee_token=${secret}`, { headers: browser });
    const app = await hostRequest(port, HOST, '/?tab=2', { headers: { ...browser, cookie } });
    const socket = await upgrade(port, cookie);

    expect(link.status).toBe(303);
    expect(link.headers.location).toBe('/?tab=2');
    expect(link.headers['set-cookie']).toEqual([
      `${cookie}; Path=/; Max-Age=2592000; HttpOnly; SameSite=Lax`,
    ]);
    expect(app.status).toBe(200);
    expect(app.body).toContain('Hello from');
    expect(socket).not.toMatch(/^HTTP\/1\.1 401/);
  });

  it("forwards the app its own cookies but not the preview's access cookie, over HTTP and WebSocket", async () => {
    const { port, cookie } = await start(ECHO_COOKIE);

    const app = await hostRequest(port, HOST, '/', {
      headers: { ...browser, cookie: `theme=dark; ${cookie}; cart=3` },
    });
    const only = await hostRequest(port, HOST, '/', { headers: { ...browser, cookie } });
    const socket = await upgrade(port, `${cookie}; theme=dark`);

    expect(app.status).toBe(200);
    expect(app.body).toBe('cookie: theme=dark; cart=3');
    expect(only.body).toBe('cookie: (none)');
    expect(socket).toMatch(/^HTTP\/1\.1 101/);
    expect(socket).toContain('X-Seen-Cookie: theme=dark\r\n');
  });

  it('keeps an asleep private preview asleep for a request without its link', async () => {
    const { port, deps, bus, cloud, log, secret } = await start();
    const env = await deps.store.get(ID);
    if (!env) throw new Error('no environment');
    await deps.store.save({ ...env, desired: { ...env.desired, phase: 'sleeping' } });
    await bus.requestReconcile([ID]);
    await bus.idle();
    const before = await deps.store.get(ID);

    const page = await hostRequest(port, HOST, `/?matinee_token=${'0'.repeat(32)}`, { headers: browser });
    await bus.idle();

    expect(page.status).toBe(401);
    expect(cloud.processes()).toEqual([]);
    expect(await deps.store.get(ID)).toEqual(before);
    expect(log.text).not.toContain(secret);
  });
});
