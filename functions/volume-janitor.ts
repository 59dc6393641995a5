import { FileJanitor, janitorRequest } from '@matinee/aws';

/** Where the stage's directory (`/<stage>` on the file system) is mounted: stacks/volumes.ts. */
export const JANITOR_MOUNT = '/mnt/volumes';

const janitor = new FileJanitor(JANITOR_MOUNT);

/**
 * Deletes volume data, which no EFS call can: invoked (and waited for) by reconcile and resync only. The
 * event is parsed before anything is touched; a path it names stays under the mount (volume-janitor.ts).
 */
export const handler = (event: unknown) => janitor.run(janitorRequest.parse(event));
