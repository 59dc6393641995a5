import { randomUUID } from 'node:crypto';
import { AlbSchema, EventBridgeSchema, LambdaFunctionUrlSchema } from '@aws-lambda-powertools/parser/schemas';

/**
 * Events as AWS delivers them to Matinee's functions, each checked against AWS Powertools' schema of that
 * event so fixtures keep the real shape (a field renamed here fails the check, not a deploy).
 */
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

export function eventBridgeEvent(
  source: string,
  detailType: string,
  detail: unknown,
  resources: string[] = [],
) {
  return EventBridgeSchema.parse({
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source,
    account: ACCOUNT,
    time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    region: REGION,
    resources,
    detail,
  });
}

export function albEvent(request: {
  method?: string;
  path?: string;
  headers: Record<string, string>;
  query?: Record<string, string>;
  body?: string;
}) {
  return AlbSchema.parse({
    requestContext: {
      elb: {
        targetGroupArn: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/matinee-wake/6d0ecf831eec9f09`,
      },
    },
    httpMethod: request.method ?? 'GET',
    path: request.path ?? '/',
    queryStringParameters: request.query ?? {},
    headers: {
      'x-forwarded-for': '203.0.113.7',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      'x-amzn-trace-id': 'Root=1-5bdb40ca-556d8b0c50dc66f0511bf520',
      ...request.headers,
    },
    body: request.body ?? '',
    isBase64Encoded: false,
  });
}

export function functionUrlEvent(request: {
  method?: string;
  path?: string;
  headers: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
}) {
  const now = new Date();
  return LambdaFunctionUrlSchema.parse({
    version: '2.0',
    routeKey: '$default',
    rawPath: request.path ?? '/',
    rawQueryString: '',
    headers: request.headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghijklmnopqrstuvwxyz012345',
      domainName: 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abcdefghijklmnopqrstuvwxyz012345',
      http: {
        method: request.method ?? 'POST',
        path: request.path ?? '/',
        protocol: 'HTTP/1.1',
        sourceIp: '140.82.115.1',
        userAgent: request.headers['user-agent'] ?? 'GitHub-Hookshot/044aadd',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: request.body,
    isBase64Encoded: request.isBase64Encoded ?? false,
  });
}
