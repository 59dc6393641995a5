import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TransientError, UserError } from '@matinee/core';
import { downloadTarball, GithubSourceControl } from '@matinee/github';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CODELOAD_GRANT, FakeGithub } from '../support/fake-github.ts';

/**
 * The commit's tarball for a build: GitHub's API (FakeGithub, real HTTP) redirects to codeload (a second
 * server here, another origin), which serves the bytes in chunks. What is asserted: the bytes arrive whole and
 * in order, the installation token reaches the API and never codeload, and the size limit fails clearly,
 * whether codeload declares the size or not.
 */
const SHA = 'a'.repeat(40);
const REPO = 'acme/web';
const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

interface Codeload {
  url: string;
  body: Buffer;
  /** Send no Content-Length (chunked), as codeload does for tarballs it makes on the fly. */
  chunked: boolean;
  requests: { path: string; headers: IncomingHttpHeaders }[];
  /** Bytes written before the client hung up. */
  written: number;
  server: Server;
}

let github: FakeGithub;
let codeload: Codeload;

beforeEach(async () => {
  github = await new FakeGithub().start();
  const state = {
    body: randomBytes(300_000),
    chunked: false,
    requests: [],
    written: 0,
  } as unknown as Codeload;
  state.server = createServer((req, res) => {
    state.requests.push({ path: req.url ?? '', headers: req.headers });
    res.writeHead(200, {
      'content-type': 'application/x-gzip',
      ...(state.chunked ? {} : { 'content-length': String(state.body.length) }),
    });
    // 64 KiB at a time, as a network would.
    let offset = 0;
    const more = () => {
      while (offset < state.body.length) {
        const chunk = state.body.subarray(offset, offset + 65_536);
        offset += chunk.length;
        state.written = offset;
        if (!res.write(chunk)) return res.once('drain', more);
      }
      res.end();
    };
    res.on('error', () => {});
    more();
  });
  await new Promise<void>((ready) => state.server.listen(0, '127.0.0.1', ready));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`;
  codeload = state;
  github.codeload = codeload.url;
});
afterEach(async () => {
  await github.stop();
  codeload.server.closeAllConnections();
  await new Promise((done) => codeload.server.close(done));
});

async function collect(stream: AsyncIterable<Uint8Array>): Promise<{ bytes: Buffer; chunks: number }> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return { bytes: Buffer.concat(parts), chunks: parts.length };
}

describe("a commit's tarball", () => {
  it("is streamed from codeload with the App's installation token sent to the API only", async () => {
    const source = new GithubSourceControl({
      auth: { kind: 'app', appId: '1234', privateKey },
      baseUrl: github.url,
    });
    const { bytes, chunks } = await collect(await source.download(REPO, SHA, 10_000_000));

    expect(bytes.equals(codeload.body)).toBe(true);
    // Chunks as they came, not one buffer.
    expect(chunks).toBeGreaterThan(1);
    const api = github.requests.find((r) => r.path === `/repos/${REPO}/tarball/${SHA}`);
    expect(api?.auth).toMatch(/^Bearer ghs_installation\d+$/);
    expect(codeload.requests).toHaveLength(1);
    expect(codeload.requests[0]?.path).toBe(`/${REPO}/legacy.tar.gz/${SHA}?token=${CODELOAD_GRANT}`);
    expect(codeload.requests[0]?.headers.authorization).toBeUndefined();
    expect(JSON.stringify(codeload.requests[0]?.headers)).not.toContain('ghs_');
  });

  it('is downloaded with a personal access token too', async () => {
    const source = new GithubSourceControl({
      auth: { kind: 'token', token: 'github_pat_secret' },
      baseUrl: github.url,
    });
    const { bytes } = await collect(await source.download(REPO, SHA, 10_000_000));
    expect(bytes.equals(codeload.body)).toBe(true);
    expect(JSON.stringify(codeload.requests)).not.toContain('github_pat_secret');
  });

  it('past the size limit fails before reading when codeload declares the size', async () => {
    const download = downloadTarball({
      baseUrl: github.url,
      token: 'github_pat_secret',
      repo: REPO,
      sha: SHA,
      maxBytes: 100_000,
    });
    await expect(download).rejects.toThrow(UserError);
    await expect(download).rejects.toThrow(
      /acme\/web at aaaaaaa is larger than 1 MB, the most Matinee downloads/,
    );
  });

  it('past the size limit fails while reading when it does not, and stops the download', async () => {
    codeload.body = Buffer.alloc(64_000_000, 7);
    codeload.chunked = true;
    const stream = await downloadTarball({
      baseUrl: github.url,
      token: 'github_pat_secret',
      repo: REPO,
      sha: SHA,
      maxBytes: 1_000_000,
    });
    let read = 0;
    const reading = (async () => {
      for await (const chunk of stream) read += chunk.byteLength;
    })();
    await expect(reading).rejects.toThrow(/is larger than 1 MB/);
    expect(read).toBeLessThanOrEqual(1_000_000);
    // The connection was dropped: codeload did not get to send everything.
    expect(codeload.written).toBeLessThan(codeload.body.length);
  });

  it('of a commit GitHub does not have fails with a reason and no address', async () => {
    github.codeload = undefined;
    const download = downloadTarball({
      baseUrl: github.url,
      token: 'github_pat_x',
      repo: REPO,
      sha: SHA,
      maxBytes: 1,
    });
    await expect(download).rejects.toThrow(UserError);
    await expect(download).rejects.toThrow(/refused the source of acme\/web at aaaaaaa \(404\)/);
  });

  it('while GitHub fails is a transient error', async () => {
    github.failing = 1;
    const download = downloadTarball({
      baseUrl: github.url,
      token: 'github_pat_x',
      repo: REPO,
      sha: SHA,
      maxBytes: 1,
    });
    await expect(download).rejects.toThrow(TransientError);
  });

  it('refuses a malformed repository or sha before any request', async () => {
    const before = github.requests.length;
    for (const [repo, sha] of [
      ['acme/web/../../x', SHA],
      [REPO, 'HEAD'],
    ] as const)
      await expect(
        downloadTarball({ baseUrl: github.url, token: 't', repo, sha, maxBytes: 1 }),
      ).rejects.toThrow(/not a/);
    expect(github.requests.length).toBe(before);
  });
});
