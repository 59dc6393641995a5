import type { MountPoint, Volume } from '@aws-sdk/client-ecs';
import { MatineeError, SEED_CONTAINER, type TaskSpec } from '@matinee/core';

/**
 * A task definition's volumes: each `.matinee.yml` volume through its own EFS access point, encrypted in
 * transit and authorised by the task role (IAM), which may mount only through an access point (see
 * stacks/permissions.ts). Names are the volume names: DNS labels, which ECS accepts as they are.
 */
export function efsVolumes(spec: TaskSpec, fileSystemId: string | undefined): Volume[] | undefined {
  if (!spec.volumes?.length) return undefined;
  if (!fileSystemId)
    throw new MatineeError(`task revision ${spec.revision} has volumes but the stage has no file system`);
  return spec.volumes.map((volume) => {
    if (!volume.source)
      throw new MatineeError(`volume ${volume.name} of revision ${spec.revision} has no access point yet`);
    return {
      name: volume.name,
      efsVolumeConfiguration: {
        fileSystemId,
        transitEncryption: 'ENABLED',
        authorizationConfig: { accessPointId: volume.source, iam: 'ENABLED' },
      },
    };
  });
}

/** Where `container` mounts its volumes; the seed runs as the app, so it mounts the app's. */
export function mountPoints(spec: TaskSpec, container: string): MountPoint[] | undefined {
  const owner = container === SEED_CONTAINER ? 'app' : container;
  const mounts = (spec.volumes ?? [])
    .filter((volume) => volume.container === owner)
    .map((volume) => ({ sourceVolume: volume.name, containerPath: volume.path, readOnly: false }));
  return mounts.length ? mounts : undefined;
}
