import { sweep } from '@matinee/core';
import {
  type ActivityPart,
  activityPart,
  type BasePart,
  basePart,
  linkedSettings,
  once,
} from './lib/platform.ts';

/** Scheduled: puts idle awake environments to sleep. Reads only awake ones. */
export async function sweepIdle(platform: BasePart & ActivityPart) {
  const report = await sweep(platform);
  platform.log.info('sweep', { examined: report.examined, slept: report.slept, nudged: report.nudged });
  return report;
}

const deps = once(() => {
  const config = linkedSettings();
  return { ...basePart(config), ...activityPart(config) };
});
export const handler = () => sweepIdle(deps());
