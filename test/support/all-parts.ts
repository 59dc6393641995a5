import type { AwsClients } from '@matinee/aws';
import type { Logger } from '@matinee/core';
import {
  activityPart,
  basePart,
  cloudPart,
  githubPart,
  inventoryPart,
  wakePart,
} from '../../functions/lib/platform.ts';
import type { FunctionSettings } from '../../functions/lib/settings.ts';

/** Every part the functions compose, over the given clients: one platform any handler can be called with. */
export function allParts(config: FunctionSettings, clients: AwsClients, log: Logger) {
  return {
    ...basePart(config, clients, log),
    ...cloudPart(config, clients),
    ...activityPart(config, clients),
    ...inventoryPart(config, clients),
    ...githubPart(config),
    ...wakePart(config, clients),
  };
}
