import { reconcileRequestedEvent } from '@matinee/aws';
import { publishFeedback, reconcile } from '@matinee/core';
import { fromLinks, type Platform } from './lib/platform.ts';

/**
 * EventBridge `environment.reconcile-requested` → make AWS match, then tell the pull request. A thrown
 * error makes Lambda retry the event, then park it in the dead-letter queue.
 */
export async function reconcileRequested(platform: Platform, event: unknown): Promise<void> {
  const { detail } = reconcileRequestedEvent.parse(event);
  await reconcile(platform, detail.id);
  await publishFeedback(platform, detail.id);
}

export const handler = (event: unknown) => reconcileRequested(fromLinks({ github: true }), event);
