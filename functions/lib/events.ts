import { environmentIdFromTag } from '@matinee/aws';
import { type EnvironmentId, parseEnvironmentId, type TaskEvent } from '@matinee/core';
import { en } from 'zod/locales';
import * as z from 'zod/mini';

// zod/mini (tree-shakable, a fraction of classic zod in every bundle) ships no messages: English, as classic zod sets it.
if (!z.config().localeError) z.config(en());

/** The parts of Lambda's event formats Matinee reads; anything else in them is ignored. */

const headers = z._default(z.record(z.string(), z.string()), {});

/** Lambda Function URL (payload format 2.0): the webhook. Header names arrive in lowercase. */
export const functionUrlEvent = z.object({
  headers,
  body: z.optional(z.string()),
  isBase64Encoded: z._default(z.boolean(), false),
});

/** ALB target (multi-value headers off): the wake function and the dashboard. Header names in lowercase. */
export const albEvent = z.object({
  requestContext: z.object({ elb: z.object({ targetGroupArn: z.string() }) }),
  httpMethod: z.string(),
  path: z.string(),
  queryStringParameters: z.optional(z.record(z.string(), z.string())),
  headers,
  body: z.optional(z.nullable(z.string())),
  isBase64Encoded: z._default(z.boolean(), false),
});
export type AlbEvent = z.infer<typeof albEvent>;

/** Anything a URL may not hold as it is; a `%` that starts no escape is one of them. */
const NOT_URL_SAFE = /%(?![0-9A-Fa-f]{2})|[^A-Za-z0-9\-._~!$'()*+,;=:@/?%]/gu;

/**
 * The request's path and query as the client wrote them. The ALB hands the query over undecoded (a
 * space arrives as `%20`), so it is joined back as it came, not encoded a second time (`%2520`); only what
 * no URL may hold is escaped, since the result ends up in a redirect's Location.
 */
export function albRequestPath(request: Pick<AlbEvent, 'path' | 'queryStringParameters'>): string {
  const pairs = Object.entries(request.queryStringParameters ?? {}).map(([name, value]) =>
    `${name}=${value}`.replace(NOT_URL_SAFE, (c) => encodeURIComponent(c)),
  );
  return pairs.length ? `${request.path}?${pairs.join('&')}` : request.path;
}

/** EventBridge's "ECS Task State Change", as the task-events rule delivers it. */
export const ecsTaskStateChange = z.object({
  'detail-type': z.literal('ECS Task State Change'),
  source: z.literal('aws.ecs'),
  detail: z.object({
    clusterArn: z.string(),
    group: z.optional(z.string()),
    taskArn: z.string(),
    taskDefinitionArn: z.string(),
    lastStatus: z.string(),
    desiredStatus: z.optional(z.string()),
    stopCode: z.optional(z.string()),
    stoppedReason: z.optional(z.string()),
    /** When the task was created: a stop of a task from before the current deployment is old news. */
    createdAt: z.optional(z.iso.datetime({ offset: true })),
  }),
});

/** EventBridge's "ECS Service Action" (steady states and placement failures, as the rule asks): `resources` names the service. */
export const ecsServiceAction = z.object({
  'detail-type': z.literal('ECS Service Action'),
  source: z.literal('aws.ecs'),
  resources: z._default(z.array(z.string()), []),
  detail: z.object({
    clusterArn: z.string(),
    eventName: z.string(),
    /** Why a task could not be placed (`RESOURCE:FARGATE`: no Fargate capacity of that kind). */
    reason: z.optional(z.string()),
  }),
});

/**
 * EventBridge's "CodeBuild Build State Change" (started, succeeded, failed, stopped), as the build rule delivers
 * it for the stage's project: the build's variables name its environment (CodeBuildImageBuilder sets them).
 */
export const codebuildBuildStateChange = z.object({
  'detail-type': z.literal('CodeBuild Build State Change'),
  source: z.literal('aws.codebuild'),
  detail: z.object({
    'build-status': z.string(),
    'project-name': z.string(),
    'build-id': z.string(),
    'additional-information': z._default(
      z.object({
        environment: z._default(
          z.object({
            'environment-variables': z._default(
              z.array(z.object({ name: z.string(), value: z._default(z.string(), '') })),
              [],
            ),
          }),
          { 'environment-variables': [] },
        ),
      }),
      { environment: { 'environment-variables': [] } },
    ),
  }),
});

/** What the task-events function is sent: a task's state, a service's, or a build's. */
export const ecsEvent = z.discriminatedUnion('detail-type', [
  ecsTaskStateChange,
  ecsServiceAction,
  codebuildBuildStateChange,
]);

const KNOWN_DETAIL_TYPES = ['ECS Task State Change', 'ECS Service Action', 'CodeBuild Build State Change'];
const KNOWN_SOURCES = ['aws.ecs', 'aws.codebuild'];

/**
 * What a log line may say of an event the schema refused: its kind and source when they are ones this
 * function knows (`other` otherwise), and where and how it failed (paths and issue codes). Never a value
 * from it: a build event carries the build's environment variables, which are not Matinee's to print.
 */
export function describeRefused(event: unknown, error: z.core.$ZodError): Record<string, unknown> {
  const field = (name: string, known: string[]) => {
    const value = event && typeof event === 'object' ? (event as Record<string, unknown>)[name] : undefined;
    return typeof value === 'string' && known.includes(value) ? value : 'other';
  };
  return {
    detailType: field('detail-type', KNOWN_DETAIL_TYPES),
    source: field('source', KNOWN_SOURCES),
    problems: error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.map(String).join('.') || '(event)'}: ${issue.code}`),
  };
}

/** The environment a build event is about (its tag value in the build's variables, checked), or undefined. */
export function buildEnvironmentOf(
  event: z.infer<typeof codebuildBuildStateChange>,
  variable: string,
): EnvironmentId | undefined {
  const variables = event.detail['additional-information'].environment['environment-variables'];
  const value = variables.find((v) => v.name === variable)?.value;
  if (!value) return undefined;
  try {
    return parseEnvironmentId(environmentIdFromTag(value)).id;
  } catch {
    return undefined;
  }
}

/** `arn:aws:ecs:<region>:<account>:service/<cluster>/<name>` → `<name>`. */
export function serviceNameOf(serviceArn: string): string | undefined {
  return /:service\/[^/]+\/([^/]+)$/.exec(serviceArn)?.[1];
}

/** The core's view of a task event, or undefined for a task no service started (a one-off task). */
export function taskEventOf(event: z.infer<typeof ecsTaskStateChange>): TaskEvent | undefined {
  const { group, ...detail } = event.detail;
  if (!group?.startsWith('service:')) return undefined;
  return {
    service: group.slice('service:'.length),
    taskArn: detail.taskArn,
    createdAt: detail.createdAt,
    taskDefinitionArn: detail.taskDefinitionArn,
    lastStatus: detail.lastStatus,
    desiredStatus: detail.desiredStatus,
    stopCode: detail.stopCode,
    stoppedReason: detail.stoppedReason,
  };
}

/** The resync schedule's input; `{"dryRun": true}` when invoked by hand to only report. */
export const resyncInput = z.looseObject({ dryRun: z._default(z.boolean(), false) });

/** Decodes a body as the event says it was sent: the webhook signature covers exactly these bytes. */
export function rawBody(body: string | null | undefined, isBase64Encoded: boolean): string {
  if (!body) return '';
  return isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
}
