import type { MatineeConfig } from '../config/config.ts';
import type { VolumeConfig } from '../config/volumes.ts';
import type { Environment } from '../environment/environment.ts';
import type { ServiceState, TaskSpec } from '../ports.ts';

/** A volume of the environment, with the container that mounts it. */
export interface EnvironmentVolume extends VolumeConfig {
  container: string;
}

/** Every volume of `config`: the app's, then each sidecar's. */
export function environmentVolumes(config: MatineeConfig): EnvironmentVolume[] {
  return [
    ...(config.app.volumes ?? []).map((volume) => ({ ...volume, container: 'app' })),
    ...Object.entries(config.sidecars).flatMap(([container, sidecar]) =>
      (sidecar.volumes ?? []).map((volume) => ({ ...volume, container })),
    ),
  ];
}

/**
 * Whether the next task start should seed. Without volumes, every start does (its databases start empty);
 * with them, only until the seed has run on each of them, since their creation or their last reset.
 */
export function seedDue(env: Pick<Environment, 'volumes'>, config: MatineeConfig): boolean {
  const names = environmentVolumes(config).map((volume) => volume.name);
  if (!names.length) return true;
  const seeded = new Set(env.volumes?.seeded?.names ?? []);
  return names.some((name) => !seeded.has(name));
}

/**
 * The task to run, given whether it should seed (`build(seed)`). Once the volumes are recorded seeded, a
 * service still running the task that seeded them keeps it: replacing a healthy task only to drop its seed
 * would restart the app for nothing. Its next start (a wake, a push) is a task without the seed.
 */
export function seedingSpec(
  build: (seed: boolean) => TaskSpec,
  due: boolean,
  service: ServiceState | undefined,
): TaskSpec {
  const seeding = build(true);
  if (due) return seeding;
  const plain = build(false);
  const stillSeeding =
    service !== undefined && service.desiredCount > 0 && service.revision === seeding.revision;
  return stillSeeding ? seeding : plain;
}

/**
 * The environment's volume record after a reconcile: a task that seeds and is now serving seeded every
 * volume of `config` (the seed starts beside the app once it is up, see taskSpec).
 */
export function afterServing(
  env: Pick<Environment, 'volumes'>,
  config: MatineeConfig,
  served: TaskSpec | undefined,
  now: string,
): Environment['volumes'] {
  const names = environmentVolumes(config).map((volume) => volume.name);
  if (!served || !names.length || !seedDue(env, config)) return env.volumes;
  return { ...env.volumes, seeded: { names, at: now } };
}
