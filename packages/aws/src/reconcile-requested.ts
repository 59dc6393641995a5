import { type EnvironmentId, parseEnvironmentId } from '@matinee/core';
import { en } from 'zod/locales';
import * as z from 'zod/mini';

// zod/mini (tree-shakable, a fraction of classic zod in every bundle) ships no messages: English, as classic zod sets it.
if (!z.config().localeError) z.config(en());

/** `source` of every event Matinee puts on its bus. */
export const MATINEE_EVENT_SOURCE = 'matinee';
/** `detail-type` of a request to reconcile one environment. */
export const RECONCILE_REQUESTED = 'environment.reconcile-requested';

/** The `detail` of a reconcile request; `id` is checked to be a normalized environment id. */
export const reconcileRequestedDetail = z.object({
  id: z.pipe(
    z.string(),
    z.transform((value, context): EnvironmentId => {
      try {
        return parseEnvironmentId(value).id;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        context.issues.push({ code: 'custom', message, input: value });
        return z.NEVER;
      }
    }),
  ),
  reason: z.string(),
});

export type ReconcileRequestedDetail = z.infer<typeof reconcileRequestedDetail>;

/** The EventBridge event as a Lambda target receives it (only the fields Matinee reads). */
export const reconcileRequestedEvent = z.object({
  source: z.literal(MATINEE_EVENT_SOURCE),
  'detail-type': z.literal(RECONCILE_REQUESTED),
  detail: reconcileRequestedDetail,
});
