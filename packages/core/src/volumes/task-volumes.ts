import type { MatineeConfig } from '../config/config.ts';
import { shortHash } from '../environment/naming.ts';
import type { TaskSpec, TaskVolume, VolumeHandle } from '../ports.ts';
import { environmentVolumes } from './seed-once.ts';

/** The variable that tells a container (or a local process) where volume `name` is. */
export function volumeVariable(name: string): string {
  return `MATINEE_VOLUME_${name.toUpperCase().replaceAll('-', '_')}`;
}

/** The volumes of a task made from `config`, not yet attached to existing volumes. */
export function taskVolumes(config: MatineeConfig): TaskVolume[] {
  return environmentVolumes(config).map(({ name, container, path, uid, gid }) => ({
    name,
    container,
    path,
    ...(uid !== undefined ? { uid, gid: gid ?? uid } : gid !== undefined ? { gid } : {}),
  }));
}

const ATTACHED = /-v(?:pending|[0-9a-f]{8})$/;

/**
 * `spec` with its volumes' sources, and the identity that mounts them, from `handles`. Both are part of the
 * revision: a volume made again (deleted outside Matinee) is a new source, and an environment's own role
 * made (or made again) a new identity, so a new task definition either way. A volume without a handle
 * leaves the revision pending, which no task definition has: reconcile makes the volumes first.
 */
export function attachVolumes(spec: TaskSpec, handles: readonly VolumeHandle[]): TaskSpec {
  if (!spec.volumes?.length) return spec;
  const sources = new Map(handles.map((handle) => [handle.name, handle.source]));
  const volumes = spec.volumes.map(({ source: _, ...volume }): TaskVolume => {
    const source = sources.get(volume.name);
    return source === undefined ? volume : { ...volume, source };
  });
  const identities = new Set(
    handles.filter((handle) => sources.has(handle.name)).map((handle) => handle.identity),
  );
  // One task runs as one identity: volumes that disagree about it are not ready to mount together.
  const identity = identities.size === 1 ? [...identities][0] : undefined;
  const attached = volumes.every((volume) => volume.source !== undefined) && identities.size === 1;
  const { identity: _, ...rest } = spec;
  const base = spec.revision.replace(ATTACHED, '');
  const suffix = attached
    ? `-v${shortHash(JSON.stringify([...volumes.map((v) => [v.name, v.source]), identity ?? null]))}`
    : '-vpending';
  return { ...rest, volumes, ...(identity ? { identity } : {}), revision: `${base}${suffix}` };
}

/** Whether some volume of `spec` does not exist yet. */
export function volumesMissing(spec: TaskSpec): boolean {
  return (spec.volumes ?? []).some((volume) => volume.source === undefined);
}
