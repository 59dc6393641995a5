import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TransientError } from '@matinee/core';
import { GithubOAuth } from '@matinee/github';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGithubOAuth } from '../support/fake-github-oauth.ts';

/** The OAuth adapter over real HTTP: against the GitHub stand-in, and against a GitHub that fails. */
const CALLBACK = 'https://preview.example.com/__matinee/github/callback';
const github = new FakeGithubOAuth();
let broken: Server;
let brokenUrl = '';

beforeAll(async () => {
  await github.start();
  github.repos.set('acme/secret', { private: true, collaborators: { rita: 'triage' } });
  github.repos.set('acme/open', { private: false, collaborators: {} });
  broken = createServer((_, response) => response.writeHead(502).end('bad gateway'));
  await new Promise<void>((ready) => broken.listen(0, '127.0.0.1', ready));
  brokenUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await github.stop();
  await new Promise<void>((done) => broken.close(() => done()));
});

const adapter = (url = github.url) =>
  new GithubOAuth({
    clientId: github.clientId,
    clientSecret: github.clientSecret,
    apiUrl: url,
    oauthUrl: url,
  });

describe('GitHub sign-in with the App’s OAuth client', () => {
  it('points the browser at GitHub’s authorization page for this client, callback and state', () => {
    const url = new URL(adapter().authorizeUrl({ redirectUri: CALLBACK, state: 's.t' }));

    expect(`${url.origin}${url.pathname}`).toBe(`${github.url}/login/oauth/authorize`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: github.clientId,
      redirect_uri: CALLBACK,
      state: 's.t',
    });
  });

  it('derives GitHub’s web address from the API address', () => {
    const url = new GithubOAuth({ clientId: 'c', clientSecret: 's' }).authorizeUrl({
      redirectUri: CALLBACK,
      state: 'x',
    });
    const ghes = new GithubOAuth({
      clientId: 'c',
      clientSecret: 's',
      apiUrl: 'https://git.example.com/api/v3',
    });

    expect(url).toMatch(/^https:\/\/github\.com\/login\/oauth\/authorize\?/);
    expect(ghes.authorizeUrl({ redirectUri: CALLBACK, state: 'x' })).toMatch(
      /^https:\/\/git\.example\.com\/login\/oauth\/authorize\?/,
    );
  });

  it('reads the user and their role on the repository', async () => {
    const code = github.issueCode('rita', CALLBACK);

    expect(await adapter().check({ code, redirectUri: CALLBACK, repo: 'acme/secret' })).toEqual({
      kind: 'signed-in',
      login: 'rita',
      permission: 'triage',
    });
  });

  it('says none where GitHub will not show the user the repository', async () => {
    const code = github.issueCode('mallory', CALLBACK);

    expect(await adapter().check({ code, redirectUri: CALLBACK, repo: 'acme/secret' })).toMatchObject({
      permission: 'none',
    });
  });

  it('reports GitHub’s read for anyone on a public repository as read (the policy decides it is not enough)', async () => {
    const code = github.issueCode('mallory', CALLBACK);

    expect(await adapter().check({ code, redirectUri: CALLBACK, repo: 'acme/open' })).toMatchObject({
      permission: 'read',
    });
  });

  it('is refused a used code, or one issued for another callback', async () => {
    const code = github.issueCode('rita', CALLBACK);
    await adapter().check({ code, redirectUri: CALLBACK, repo: 'acme/secret' });
    const elsewhere = github.issueCode('rita', 'https://evil.example/cb');

    expect(await adapter().check({ code, redirectUri: CALLBACK, repo: 'acme/secret' })).toEqual({
      kind: 'refused',
    });
    expect(await adapter().check({ code: elsewhere, redirectUri: CALLBACK, repo: 'acme/secret' })).toEqual({
      kind: 'refused',
    });
  });

  it('fails as transient when GitHub fails, saying nothing of the client secret', async () => {
    const failure = await adapter(brokenUrl)
      .check({ code: 'abc', redirectUri: CALLBACK, repo: 'acme/secret' })
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(TransientError);
    expect(String((failure as Error).message)).not.toContain(github.clientSecret);
  });
});
