import type { TaskEvent } from '@matinee/core';
import * as z from 'zod';

/** The parts of Lambda's event formats Matinee reads; anything else in them is ignored. */

const headers = z.record(z.string(), z.string()).default({});

/** Lambda Function URL (payload format 2.0): the webhook. Header names arrive in lowercase. */
export const functionUrlEvent = z.object({
  headers,
  body: z.string().optional(),
  isBase64Encoded: z.boolean().default(false),
});

/** ALB target (multi-value headers off): the wake function and the dashboard. Header names in lowercase. */
export const albEvent = z.object({
  requestContext: z.object({ elb: z.object({ targetGroupArn: z.string() }) }),
  httpMethod: z.string(),
  path: z.string(),
  queryStringParameters: z.record(z.string(), z.string()).optional(),
  headers,
  body: z.string().nullable().optional(),
  isBase64Encoded: z.boolean().default(false),
});
export type AlbEvent = z.infer<typeof albEvent>;

/** EventBridge's "ECS Task State Change", as the task-events rule delivers it. */
export const ecsTaskStateChange = z.object({
  'detail-type': z.literal('ECS Task State Change'),
  source: z.literal('aws.ecs'),
  detail: z.object({
    clusterArn: z.string(),
    group: z.string().optional(),
    taskDefinitionArn: z.string(),
    lastStatus: z.string(),
    desiredStatus: z.string().optional(),
    stopCode: z.string().optional(),
    stoppedReason: z.string().optional(),
  }),
});

/** EventBridge's "ECS Service Action" (SERVICE_STEADY_STATE only, as the rule asks): `resources` names the service. */
export const ecsServiceAction = z.object({
  'detail-type': z.literal('ECS Service Action'),
  source: z.literal('aws.ecs'),
  resources: z.array(z.string()).default([]),
  detail: z.object({ clusterArn: z.string(), eventName: z.string() }),
});

/** What the task-events function is sent: a task's state, or a service's. */
export const ecsEvent = z.discriminatedUnion('detail-type', [ecsTaskStateChange, ecsServiceAction]);

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
    taskDefinitionArn: detail.taskDefinitionArn,
    lastStatus: detail.lastStatus,
    desiredStatus: detail.desiredStatus,
    stopCode: detail.stopCode,
    stoppedReason: detail.stoppedReason,
  };
}

/** The resync schedule's input; `{"dryRun": true}` when invoked by hand to only report. */
export const resyncInput = z.object({ dryRun: z.boolean().default(false) }).passthrough();

/** Decodes a body as the event says it was sent: the webhook signature covers exactly these bytes. */
export function rawBody(body: string | null | undefined, isBase64Encoded: boolean): string {
  if (!body) return '';
  return isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
}
