import { reconcileRequestedEvent } from '@matinee/aws';
import { obeyPendingCommands, publishFeedback, reconcile } from '@matinee/core';
import {
  type BasePart,
  type BuildPart,
  basePart,
  buildPart,
  type CloudPart,
  cloudPart,
  type GithubPart,
  githubPart,
  linkedSettings,
  once,
  type VolumesPart,
  volumesPart,
} from './lib/platform.ts';

type Deps = BasePart & CloudPart & GithubPart & VolumesPart & BuildPart;

/**
 * EventBridge `environment.reconcile-requested` → make AWS match, obey comment commands GitHub could not
 * vouch for earlier, then tell the pull request. A thrown error makes Lambda retry the event, then park it
 * in the dead-letter queue.
 */
export async function reconcileRequested(platform: Deps, event: unknown): Promise<void> {
  const { detail } = reconcileRequestedEvent.parse(event);
  const env = await reconcile(platform, detail.id);
  if (env?.pendingCommands) await obeyPendingCommands(platform, env);
  await publishFeedback(platform, detail.id);
}

const deps = once(() => {
  const config = linkedSettings({ github: true });
  const github = githubPart(config);
  return {
    ...basePart(config),
    ...cloudPart(config),
    ...github,
    ...volumesPart(config),
    ...buildPart(config, github.source),
  };
});
export const handler = (event: unknown) => reconcileRequested(deps(), event);
