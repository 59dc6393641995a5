import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from '@matinee/core';

/** The response shape of an ALB Lambda target (multi-value headers off). */
export interface AlbResult {
  statusCode: number;
  statusDescription: string;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

/** The response shape of a Lambda Function URL. */
export interface FunctionUrlResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export function albResult(response: HttpResponse): AlbResult {
  return {
    statusCode: response.status,
    statusDescription: `${response.status} ${STATUS_CODES[response.status] ?? ''}`.trim(),
    headers: response.headers,
    body: response.body,
    isBase64Encoded: false,
  };
}

export function jsonResult(status: number, body: unknown): FunctionUrlResult {
  return { statusCode: status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
