import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server } from 'node:http';
import { Readable } from 'node:stream';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { fromBrowser } from './browser-request.ts';

/** The key the embedded database accepts: made at each start, held in this process's memory only. */
export interface RunCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A fresh random key for one run: never written to disk or to the environment. */
export function runCredentials(): RunCredentials {
  return {
    accessKeyId: `MATINEE${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(32).toString('base64url'),
  };
}

/** dynalite's own limit on a request body. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** As AWS: a signature more than 5 minutes off the clock is refused. */
const MAX_SKEW_MS = 5 * 60_000;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([\w-]+)\/dynamodb\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
/** Without these signed, a valid signature could be replayed onto another operation or host. */
const MUST_SIGN = ['host', 'x-amz-date', 'x-amz-target'];

export interface SignedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** `20260102T030405Z` as a date, or undefined. */
function amzDate(text: string | undefined): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? '');
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
}

/**
 * Why the embedded database refuses `request`, or undefined when it carries a valid SigV4 signature made
 * with this run's key over its method, path, signed headers and body. The signature is recomputed with the
 * SDK's own signer (never a hand-written SigV4) and compared in constant time.
 */
export async function refusal(
  request: SignedRequest,
  credentials: RunCredentials,
  now = new Date(),
): Promise<string | undefined> {
  if (fromBrowser(request.headers)) return 'requests from web pages are refused';
  const given = AUTHORIZATION.exec(header(request.headers, 'authorization') ?? '');
  if (!given) return 'a SigV4 Authorization header is required';
  const [, keyId, day, region, signedList, signature] = given as unknown as string[];
  if (keyId !== credentials.accessKeyId) return 'unknown access key';
  const url = new URL(request.url, 'http://embedded');
  if (url.search || url.pathname !== '/') return 'only POST / is served';
  const signed = (signedList as string).split(';');
  if (MUST_SIGN.some((name) => !signed.includes(name)))
    return `the signature must cover ${MUST_SIGN.join(', ')}`;
  const date = amzDate(header(request.headers, 'x-amz-date'));
  if (!date || date.toISOString().slice(0, 10).replaceAll('-', '') !== day) return 'bad X-Amz-Date';
  if (Math.abs(now.getTime() - date.getTime()) > MAX_SKEW_MS) return 'signature expired';
  // The signer trusts this header as the body's hash: it must be the hash of the body actually sent.
  const claimed = header(request.headers, 'x-amz-content-sha256');
  if (claimed !== undefined && claimed !== createHash('sha256').update(request.body).digest('hex'))
    return 'X-Amz-Content-Sha256 does not match the body';
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = header(request.headers, name);
    if (value === undefined) return `signed header ${name} is missing`;
    headers[name] = value;
  }
  const signer = new SignatureV4({
    credentials,
    region: region as string,
    service: 'dynamodb',
    sha256: Sha256,
    applyChecksum: false,
  });
  const expected = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: headers.host ?? '',
      path: url.pathname,
      query: {},
      headers,
      body: request.body,
    },
    { signingDate: date, signableHeaders: new Set(signed) },
  );
  const recomputed = AUTHORIZATION.exec(String(expected.headers.authorization ?? ''));
  const ok =
    recomputed?.[4] === signedList &&
    timingSafeEqual(Buffer.from(recomputed?.[5] ?? '', 'hex'), Buffer.from(signature as string, 'hex'));
  return ok ? undefined : 'signature does not match';
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Puts `refusal` in front of dynalite's request handler: a refused request gets 403 and reaches nothing of
 * the database. dynalite reads the body itself, so an accepted request is handed over as a replay of the
 * body that was checked (not of whatever else the socket might still send).
 */
export function guardRequests(server: Server, credentials: RunCredentials): void {
  const handlers = server.listeners('request') as RequestListener[];
  const [dynalite] = handlers;
  if (handlers.length !== 1 || !dynalite) throw new Error('dynalite: expected exactly one request handler');
  server.removeAllListeners('request');
  server.on('request', async (request: IncomingMessage, response) => {
    const deny = (status: number, message: string) =>
      response
        .writeHead(status, { 'content-type': 'application/x-amz-json-1.0' })
        .end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException', message }));
    try {
      const body = await readBody(request);
      if (!body) return deny(413, 'request body too large');
      const why = await refusal(
        { method: request.method ?? '', url: request.url ?? '/', headers: request.headers, body },
        credentials,
      );
      if (why) return deny(403, why);
      const replay = Object.assign(Readable.from(body.length ? [body] : []), {
        method: request.method,
        url: request.url,
        headers: request.headers,
      });
      dynalite(replay as unknown as IncomingMessage, response);
    } catch {
      if (!response.headersSent) deny(400, 'bad request');
      else response.destroy();
    }
  });
}
