import { sweep } from '@matinee/core';
import { fromLinks, type Platform } from './lib/platform.ts';

/** Scheduled: puts idle awake environments to sleep. Reads only awake ones. */
export async function sweepIdle(platform: Platform) {
  const report = await sweep(platform);
  platform.log.info('sweep', { examined: report.examined, slept: report.slept });
  return report;
}

export const handler = () => sweepIdle(fromLinks());
