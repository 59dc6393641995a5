import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { environmentId } from '@matinee/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basePart, signInPart, wakePart } from '../../functions/lib/platform.ts';
import { readSettings } from '../../functions/lib/settings.ts';
import { serveDefaultRule } from '../../functions/wake.ts';
import { localTable } from '../support/dynamo.ts';
import { anEnvironment } from '../support/environments.ts';
import { FakeGithubOAuth } from '../support/fake-github-oauth.ts';
import { MemoryLogger } from '../support/fakes.ts';
import { hostRequest as request } from '../support/http.ts';
import { serveLambda } from '../support/lambda-http.ts';
import { links } from '../support/stage.ts';

/**
 * functions/wake.ts behind real HTTP as the ALB's Lambda target, on a `github` stage whose GitHub (OAuth
 * and REST) is a stand-in over real HTTP: the sign-in on the stage's domain and the one-time code on the
 * preview host, for a private and a public repository. The store and codes are on DynamoDB Local.
 */
const DOMAIN = 'preview.example.com';
const PRIVATE_HOST = `private-1.${DOMAIN}`;
const PUBLIC_HOST = `public-2.${DOMAIN}`;
const CALLBACK = `https://${DOMAIN}/__matinee/github/callback`;
const github = new FakeGithubOAuth();
const eventbridge = mockClient(EventBridgeClient);
const log = new MemoryLogger();
let server: Awaited<ReturnType<typeof serveLambda>>;

beforeAll(async () => {
  await github.start();
  github.repos.set('acme/secret', { private: true, collaborators: { rita: 'read' } });
  github.repos.set('acme/open', { private: false, collaborators: { wendy: 'write' } });
  eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
  const { tableName, client } = await localTable();
  const linked = links({
    access: { mode: 'github' },
    githubApiUrl: github.url,
    dashboardPassword: 'dashboard-password',
    oauth: { clientId: github.clientId, clientSecret: github.clientSecret },
  });
  linked.MatineeTable.name = tableName;
  const config = readSettings(linked, { dashboardPassword: true, oauth: true });
  const base = basePart(config, { dynamo: client, eventbridge: new EventBridgeClient({}) }, log);
  const platform = {
    ...base,
    ...wakePart(config, { dynamo: client }),
    ...signInPart(config, base, { dynamo: client }),
  };
  for (const [n, repo, slug, repoPrivate] of [
    [1, 'acme/secret', 'private-1', true],
    [2, 'acme/open', 'public-2', false],
  ] as const) {
    const draft = anEnvironment({ id: environmentId(repo, n) });
    await platform.store.create(
      {
        ...draft,
        repo,
        repoPrivate,
        accessSecret: `${n}`.repeat(32),
        desired: { ...draft.desired, phase: 'sleeping' },
        observed: { phase: 'sleeping', resources: {}, since: draft.createdAt },
      },
      [slug],
      DOMAIN,
    );
  }
  server = await serveLambda('alb', (event) => serveDefaultRule(platform, event));
}, 60_000);

afterAll(async () => {
  await server?.close();
  await github.stop();
  eventbridge.restore();
});

const html = { accept: 'text/html' };
const woken = () => eventbridge.commandCalls(PutEventsCommand).length;
const pathOf = (url: string) => url.replace(/^https:\/\/[^/]+/, '');
const firstCookie = (value: string | string[] | undefined) => String(value).split(';')[0] ?? '';

/** The browser's way from a preview host to GitHub: the redirect, then the sign-in route's nonce cookie. */
async function startSignIn(host: string, path = '/') {
  const preview = await request(server.port, host, path, { headers: html });
  const location = String(preview.headers.location);
  const start = await request(server.port, DOMAIN, pathOf(location), { headers: html });
  const authorize = new URL(String(start.headers.location));
  return { preview, location, start, state: authorize.searchParams.get('state') ?? '', authorize };
}

/** GitHub's redirect back for `login`, with the browser's nonce cookie. */
async function callback(login: string, started: Awaited<ReturnType<typeof startSignIn>>) {
  const code = github.issueCode(login, CALLBACK);
  return request(
    server.port,
    DOMAIN,
    `/__matinee/github/callback?code=${code}&state=${encodeURIComponent(started.state)}`,
    { headers: { ...html, cookie: firstCookie(started.start.headers['set-cookie']) } },
  );
}

describe('the wake function on a github stage', () => {
  it('sends a browser without a cookie to the stage’s sign-in, and on to GitHub, waking nothing', async () => {
    const started = await startSignIn(PRIVATE_HOST, '/orders?page=2');

    expect(started.preview.status).toBe(302);
    expect(started.location).toMatch(/^https:\/\/preview\.example\.com\/__matinee\/sign-in\?state=/);
    expect(started.start.status).toBe(302);
    expect(`${started.authorize.origin}${started.authorize.pathname}`).toBe(
      `${github.url}/login/oauth/authorize`,
    );
    expect(started.authorize.searchParams.get('client_id')).toBe(github.clientId);
    expect(started.authorize.searchParams.get('redirect_uri')).toBe(CALLBACK);
    expect(String(started.start.headers['set-cookie'])).toMatch(
      /^__Host-matinee_sign_in=[0-9a-f]{64}; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/,
    );
    expect(woken()).toBe(0);
  });

  it('answers a client that is no browser with 401, not a redirect', async () => {
    const api = await request(server.port, PRIVATE_HOST, '/api/orders');

    expect(api.status).toBe(401);
    expect(woken()).toBe(0);
  });

  it('admits a reader of a private repository: one-time code, then the cookie and the page first asked for', async () => {
    const started = await startSignIn(PRIVATE_HOST, '/orders?page=2');
    const back = await callback('rita', started);

    expect(back.status).toBe(303);
    const finish = new URL(String(back.headers.location));
    expect(finish.origin).toBe(`https://${PRIVATE_HOST}`);
    expect(finish.pathname).toBe('/__matinee/signed-in');
    const landed = await request(server.port, PRIVATE_HOST, `${finish.pathname}${finish.search}`, {
      headers: html,
    });
    expect(landed.status).toBe(303);
    expect(landed.headers.location).toBe('/orders?page=2');
    expect(String(landed.headers['set-cookie'])).toMatch(
      new RegExp(`^matinee_private-1=${'1'.repeat(32)};.*HttpOnly.*Secure`),
    );

    const again = await request(server.port, PRIVATE_HOST, `${finish.pathname}${finish.search}`, {
      headers: html,
    });
    expect(again.status).toBe(400);
    expect(again.headers['set-cookie']).toBeUndefined();
    expect(woken()).toBe(0);
  });

  it('refuses a signed-in user on a public repository, where GitHub says read for anyone, with 403', async () => {
    const started = await startSignIn(PUBLIC_HOST);
    const back = await callback('stranger', started);

    expect(back.status).toBe(403);
    expect(back.body).toContain('@stranger');
    expect(back.body).not.toContain('acme/open');
    expect(back.headers.location).toBeUndefined();
  });

  it('admits a collaborator of the public repository', async () => {
    const back = await callback('wendy', await startSignIn(PUBLIC_HOST));

    expect(back.status).toBe(303);
    expect(String(back.headers.location)).toMatch(
      /^https:\/\/public-2\.preview\.example\.com\/__matinee\/signed-in\?code=[0-9a-f]{64}$/,
    );
  });

  it('refuses a code issued for one preview on another', async () => {
    const back = await callback('wendy', await startSignIn(PUBLIC_HOST));
    const finish = new URL(String(back.headers.location));

    const elsewhere = await request(server.port, PRIVATE_HOST, `${finish.pathname}${finish.search}`, {
      headers: html,
    });

    expect(elsewhere.status).toBe(400);
    expect(elsewhere.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a callback without the nonce cookie, or with GitHub’s refusal of the code', async () => {
    const started = await startSignIn(PRIVATE_HOST);
    const code = github.issueCode('rita', CALLBACK);
    const noCookie = await request(
      server.port,
      DOMAIN,
      `/__matinee/github/callback?code=${code}&state=${encodeURIComponent(started.state)}`,
      { headers: html },
    );
    const usedCode = await request(
      server.port,
      DOMAIN,
      `/__matinee/github/callback?code=not-a-code&state=${encodeURIComponent(started.state)}`,
      { headers: { ...html, cookie: firstCookie(started.start.headers['set-cookie']) } },
    );

    expect(noCookie.status).toBe(400);
    expect(usedCode.status).toBe(400);
  });

  it('refuses a nonce under the plain name, which a preview on a sibling host can plant for the whole domain', async () => {
    const started = await startSignIn(PRIVATE_HOST);
    const code = github.issueCode('rita', CALLBACK);
    const nonce = firstCookie(started.start.headers['set-cookie']).split('=')[1];

    const planted = await request(
      server.port,
      DOMAIN,
      `/__matinee/github/callback?code=${code}&state=${encodeURIComponent(started.state)}`,
      { headers: { ...html, cookie: `matinee_sign_in=${nonce}` } },
    );

    expect(planted.status).toBe(400);
    expect(planted.headers.location).toBeUndefined();
  });

  it('spends the nonce once the callback is answered, with the attributes it was set with', async () => {
    const back = await callback('rita', await startSignIn(PRIVATE_HOST));

    expect(back.headers['set-cookie']).toEqual([
      '__Host-matinee_sign_in=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure',
    ]);
  });

  it('keeps the dashboard behind its password while the sign-in routes need none', async () => {
    const dashboard = await request(server.port, DOMAIN, '/', { headers: html });

    expect(dashboard.status).toBe(401);
  });

  it('logged no user token, client secret, code or preview secret', () => {
    for (const secret of [github.clientSecret, ...github.tokens, '1'.repeat(32), '2'.repeat(32)])
      expect(log.text).not.toContain(secret);
    expect(github.tokens.length).toBeGreaterThan(0);
  });
});
