import { resync } from '@matinee/core';
import { resyncInput } from './lib/events.ts';
import {
  type BasePart,
  type BuildPart,
  basePart,
  buildPart,
  type CloudPart,
  cloudPart,
  type GithubPart,
  githubPart,
  type InventoryPart,
  inventoryPart,
  linkedSettings,
  once,
  type VolumesPart,
  volumesPart,
} from './lib/platform.ts';

type Deps = BasePart & CloudPart & GithubPart & InventoryPart & VolumesPart & BuildPart;

/**
 * Hourly: closes environments whose pull request closed without us hearing, re-asks stuck ones, removes
 * tagged resources nothing owns. Invoke with `{"dryRun": true}` to only report.
 */
export async function resyncWithGithub(platform: Deps, event: unknown) {
  const { dryRun } = resyncInput.parse(event ?? {});
  const report = await resync(platform, { dryRun });
  platform.log.info('resync', { ...report });
  return report;
}

const deps = once(() => {
  const config = linkedSettings({ github: true });
  const volumes = volumesPart(config);
  const github = githubPart(config);
  return {
    ...basePart(config),
    ...cloudPart(config),
    ...github,
    ...buildPart(config, github.source),
    ...volumes,
    ...inventoryPart(config, {}, volumes.volumes),
  };
});
export const handler = (event: unknown) => resyncWithGithub(deps(), event);
