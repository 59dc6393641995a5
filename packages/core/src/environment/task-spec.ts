import type { MatineeConfig } from '../config/config.ts';
import type { ContainerSpec, TaskSpec } from '../ports.ts';
import { taskVolumes, volumeVariable } from '../volumes/task-volumes.ts';
import type { Environment } from './environment.ts';
import { shortHash } from './naming.ts';

function render(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
}

function renderAll(env: Record<string, string>, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, render(value, values)]));
}

/** Same commit, config, overrides and redeploy count: same revision, so nothing is redeployed. */
function revisionOf(
  sha: string,
  digest: string,
  env: Pick<Environment, 'overrides' | 'deployNonce'>,
  onDemandFallback: boolean,
  seedsVolumes: boolean,
): string {
  const overrides = Object.keys(env.overrides ?? {}).length
    ? `-${shortHash(JSON.stringify(Object.entries(env.overrides ?? {}).sort()))}`
    : '';
  const nonce = env.deployNonce ? `-r${env.deployNonce}` : '';
  // Moving off Spot is a new deployment of the service, so it is a revision of its own.
  const fallback = onDemandFallback ? '-od' : '';
  // With volumes the seed runs once: the task that seeds them is a revision of its own (see seed-once.ts).
  const seeding = seedsVolumes ? '-seed' : '';
  return `${sha.slice(0, 12)}-${digest}${overrides}${nonce}${fallback}${seeding}`;
}

/** The container that runs `.matinee.yml`'s `seed` in each task. */
export const SEED_CONTAINER = 'matinee-seed';
/** The container that serves HTTP: its output is what explains a failure. */
export const APP_CONTAINER = 'app';

/** The image of a container: its `image:` with templates filled, or the one `build:` made (`built`). */
function imageOf(
  name: string,
  container: { image?: string },
  values: Record<string, string>,
  built: Record<string, string>,
): string {
  if (container.image !== undefined) return render(container.image, values);
  const image = built[name];
  if (image === undefined) throw new Error(`container ${name} is built, and no built image was given`);
  return image;
}

/**
 * The task to run for `env` at `sha` with `config`: templates filled, app first. `seed`: whether it runs the
 * config's seed (every start without volumes; with them, see seedDue). `built`: the image of each container
 * with `build:`, by container name (see ImageBuilder.imageOf).
 */
export function taskSpec(
  env: Pick<Environment, 'host' | 'number' | 'pr' | 'overrides' | 'deployNonce' | 'spotUnavailableAt'>,
  sha: string,
  config: MatineeConfig,
  digest: string,
  url = `https://${env.host}`,
  seed = true,
  built: Record<string, string> = {},
): TaskSpec {
  const values = {
    sha,
    short_sha: sha.slice(0, 7),
    pr: String(env.number),
    branch: env.pr.branch,
    host: env.host,
    url,
  };
  // Every container can tell which preview it is part of.
  const shared = {
    MATINEE_PR: values.pr,
    MATINEE_BRANCH: values.branch,
    MATINEE_SHA: sha,
    MATINEE_URL: values.url,
    ...renderAll(config.env, values),
  };
  const volumes = taskVolumes(config);
  // Each container is told where its volumes are, as a process is locally (where the path is a directory).
  const mounted = (container: string) =>
    Object.fromEntries(
      volumes.filter((v) => v.container === container).map((v) => [volumeVariable(v.name), v.path]),
    );
  const app: ContainerSpec = {
    name: APP_CONTAINER,
    image: imageOf(APP_CONTAINER, config.app, values, built),
    command: config.app.command,
    env: {
      ...shared,
      ...renderAll(config.app.env, values),
      ...env.overrides,
      ...mounted('app'),
      PORT: String(config.app.port),
    },
    port: config.app.port,
    essential: true,
  };
  const sidecars = Object.entries(config.sidecars).map(
    ([name, sidecar]): ContainerSpec => ({
      name,
      image: imageOf(name, sidecar, values, built),
      command: sidecar.command,
      env: { ...shared, ...renderAll(sidecar.env, values), ...mounted(name) },
      essential: true,
    }),
  );
  // The seed runs beside the app in the same task, with the app's image and variables, once the app has
  // started; it may exit (not essential) and should wait for its database itself.
  const seeds = config.seed && seed ? config.seed : undefined;
  const seedContainer: ContainerSpec[] = seeds
    ? [
        {
          name: SEED_CONTAINER,
          image: app.image,
          command: seeds,
          env: app.env,
          essential: false,
          dependsOn: [{ container: app.name, condition: 'START' }],
        },
      ]
    : [];
  // Spot had no room for this environment: on-demand until it sleeps (see Environment.spotUnavailableAt).
  const fallback = config.spot && env.spotUnavailableAt !== undefined;
  return {
    revision: revisionOf(sha, digest, env, fallback, volumes.length > 0 && seeds !== undefined),
    sha,
    containers: [app, ...sidecars, ...seedContainer],
    cpu: config.size.cpu,
    memory: config.size.memory,
    port: config.app.port,
    healthPath: config.app.health,
    spot: config.spot && !fallback,
    seed: seeds,
    local: config.local && { command: config.local.command, cwd: config.local.cwd },
    ...(volumes.length ? { volumes } : {}),
  };
}
