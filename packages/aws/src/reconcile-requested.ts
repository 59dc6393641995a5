import { type EnvironmentId, parseEnvironmentId } from '@matinee/core';
import * as z from 'zod';

/** `source` of every event Matinee puts on its bus. */
export const MATINEE_EVENT_SOURCE = 'matinee';
/** `detail-type` of a request to reconcile one environment. */
export const RECONCILE_REQUESTED = 'environment.reconcile-requested';

/** The `detail` of a reconcile request; `id` is checked to be a normalized environment id. */
export const reconcileRequestedDetail = z.object({
  id: z.string().transform((value, context): EnvironmentId => {
    try {
      return parseEnvironmentId(value).id;
    } catch (error) {
      context.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
      return z.NEVER;
    }
  }),
  reason: z.string(),
});

export type ReconcileRequestedDetail = z.infer<typeof reconcileRequestedDetail>;

/** The EventBridge event as a Lambda target receives it (only the fields Matinee reads). */
export const reconcileRequestedEvent = z.object({
  source: z.literal(MATINEE_EVENT_SOURCE),
  'detail-type': z.literal(RECONCILE_REQUESTED),
  detail: reconcileRequestedDetail,
});
