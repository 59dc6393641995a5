import { resync } from '@matinee/core';
import { resyncInput } from './lib/events.ts';
import { fromLinks, type Platform } from './lib/platform.ts';

/**
 * Hourly: closes environments whose pull request closed without us hearing, re-asks stuck ones, removes
 * tagged resources nothing owns. Invoke with `{"dryRun": true}` to only report.
 */
export async function resyncWithGithub(platform: Platform, event: unknown) {
  const { dryRun } = resyncInput.parse(event ?? {});
  const report = await resync(platform, { dryRun });
  platform.log.info('resync', { ...report });
  return report;
}

export const handler = (event: unknown) => resyncWithGithub(fromLinks({ github: true }), event);
