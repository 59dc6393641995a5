import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { albEvent, functionUrlEvent } from './lambda-events.ts';

type Handler = (
  event: unknown,
) => Promise<{ statusCode: number; headers?: Record<string, string>; body?: string }>;

async function read(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function lowercaseHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  return headers;
}

/**
 * Real HTTP in front of a Lambda handler, turning each request into the event AWS would build: a Function
 * URL event (payload 2.0) or an ALB target event. Bodies that are not text go base64-encoded, as AWS does;
 * `base64: true` encodes every body, to test that path.
 */
export async function serveLambda(
  kind: 'function-url' | 'alb',
  handler: Handler,
  options: { base64?: boolean } = {},
): Promise<{ url: string; port: number; close: () => Promise<void> }> {
  const server: Server = createServer(async (request, response) => {
    const raw = await read(request);
    const headers = lowercaseHeaders(request);
    const textual = /json|text|x-www-form-urlencoded/.test(headers['content-type'] ?? '');
    const base64 = options.base64 || (raw.length > 0 && !textual);
    const body = raw.length ? raw.toString(base64 ? 'base64' : 'utf8') : undefined;
    const url = new URL(request.url ?? '/', 'http://lambda');
    const event =
      kind === 'function-url'
        ? functionUrlEvent({
            method: request.method,
            path: url.pathname,
            headers,
            body,
            isBase64Encoded: base64,
          })
        : albEvent({
            method: request.method,
            path: url.pathname,
            headers,
            // The ALB passes query values as written, undecoded (and the last of a repeated name).
            query: Object.fromEntries(
              url.search
                .slice(1)
                .split('&')
                .filter(Boolean)
                .map((pair) => [pair.split('=')[0] ?? '', pair.split('=').slice(1).join('=')]),
            ),
            body: body ?? '',
          });
    try {
      const result = await handler(event);
      response.writeHead(result.statusCode, result.headers).end(result.body ?? '');
    } catch (error) {
      // What Lambda does with a thrown error behind a Function URL or an ALB.
      response.writeHead(502, { 'content-type': 'text/plain' }).end(String(error));
    }
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
