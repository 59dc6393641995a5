import { request } from 'node:http';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';

export interface RawReply {
  status: number;
  body: string;
}

/** A DynamoDB JSON request as the SDK would sign it with `credentials`, ready to be sent (or tampered with). */
export async function signDynamoRequest(
  credentials: { accessKeyId: string; secretAccessKey: string },
  target: string,
  input: unknown,
  /** The SDK sends X-Amz-Content-Sha256 (signed); false leaves it out, so only the signature covers the body. */
  options: { applyChecksum?: boolean; unsigned?: string[] } = {},
): Promise<{ headers: Record<string, string>; body: string }> {
  const body = JSON.stringify(input);
  const signer = new SignatureV4({
    credentials,
    region: 'local',
    service: 'dynamodb',
    sha256: Sha256,
    applyChecksum: options.applyChecksum ?? true,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: 'dynamodb.localhost',
      path: '/',
      query: {},
      headers: {
        host: 'dynamodb.localhost',
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${target}`,
      },
      body,
    },
    { unsignableHeaders: new Set(options.unsigned ?? []) },
  );
  return { headers: signed.headers as Record<string, string>, body };
}

/** Sends a request over the embedded database's Unix socket, exactly as given. */
export function sendRaw(
  socketPath: string,
  message: { method?: string; headers: Record<string, string>; body: string },
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, path: '/', method: message.method ?? 'POST', headers: message.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(message.body);
  });
}
