import type { Environment } from '../environment/environment.ts';
import { resourceNames } from '../environment/naming.ts';
import type { EnvironmentRef, Settings } from '../ports.ts';

export const TAG_STAGE = 'matinee:stage';
export const TAG_ENVIRONMENT = 'matinee:environment';
export const TAG_HOST = 'matinee:host';

/** How the runtime, router and volumes find an environment's resources: by name, by tag, and by what it knew. */
export function environmentRef(
  settings: Settings,
  env: Pick<Environment, 'id' | 'slug' | 'host'> & { observed?: Pick<Environment['observed'], 'resources'> },
): EnvironmentRef {
  return {
    known: env.observed?.resources ?? {},
    id: env.id,
    host: env.host,
    names: resourceNames(settings.stage, env.id, env.slug),
    tags: { [TAG_STAGE]: settings.stage, [TAG_ENVIRONMENT]: env.id, [TAG_HOST]: env.host },
  };
}
