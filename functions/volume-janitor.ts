import { FileJanitor, JANITOR_MOUNT, janitorRequest } from '@matinee/aws';

const janitor = new FileJanitor(JANITOR_MOUNT);

/**
 * Deletes volume data, which no EFS call can: invoked (and waited for) by reconcile and resync only. The
 * event is parsed before anything is touched; a path it names stays under the mount (volume-janitor.ts).
 */
export const handler = (event: unknown) => janitor.run(janitorRequest.parse(event));
