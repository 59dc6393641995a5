import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { type ContainerSpec, SEED_CONTAINER, type TaskVolume } from '@matinee/core';
import type { Revision } from './local-task.ts';

/**
 * The task's containers, as Fargate runs them: one network for all (the first started owns it and
 * publishes the app's port on loopback, the others join it, so each reaches the others on localhost),
 * sidecars first, then the app in the foreground, whose `docker run` is the task's process. The seed runs
 * later, once the app is healthy (see `seedInContainer`).
 */
export async function startContainers(
  input: { service: string; serial: number; revision: Revision; port: number },
  env: Record<string, string>,
): Promise<{ child: ChildProcess; port: number; containers: string[] }> {
  const { service, serial, revision, port } = input;
  const [app, ...sidecars] = revision.spec.containers.filter((c) => c.name !== SEED_CONTAINER);
  if (!app?.port) throw new Error(`no app container in ${revision.arn}`);
  const name = (container: string) => `${service}-${serial}-${container}`;
  const order = [...sidecars, app];
  const containers = order.map((container) => name(container.name));
  const owner = containers[0] as string;
  const network = (index: number) =>
    index === 0 ? ['-p', `127.0.0.1:${port}:${app.port}`] : ['--network', `container:${owner}`];
  const run = (container: (typeof order)[number], index: number) => [
    '--rm',
    '--name',
    name(container.name),
    '--label',
    `matinee.service=${service}`,
    ...network(index),
    ...mountFlags(revision.spec.volumes ?? [], container.name),
    ...envFlags(container.env),
    container.image,
    ...(container.command ?? []),
  ];
  try {
    for (const [index, sidecar] of sidecars.entries())
      await docker(env, ['run', '-d', ...run(sidecar, index)]);
  } catch (error) {
    removeContainers(env, containers);
    throw error;
  }
  const child = spawn('docker', ['run', ...run(app, sidecars.length)], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, port, containers };
}

/** The seed as a container: the app's image and variables, in the task's network (owned by `owner`). */
export function seedInContainer(
  owner: string,
  app: ContainerSpec,
  seed: string[],
  volumes: readonly TaskVolume[],
): string[] {
  return [
    'docker',
    'run',
    '--rm',
    '--name',
    `${owner}-seed`,
    '--network',
    `container:${owner}`,
    ...mountFlags(volumes, app.name),
    ...envFlags(app.env),
    app.image,
    ...seed,
  ];
}

/** The volumes `container` mounts, as bind mounts of their directories (made before the task). */
function mountFlags(volumes: readonly TaskVolume[], container: string): string[] {
  return volumes
    .filter((volume) => volume.container === container && volume.source)
    .flatMap((volume) => [
      '--mount',
      `type=bind,${csvField(`source=${volume.source}`)},${csvField(`target=${volume.path}`)}`,
    ]);
}

/** `--mount` reads its value as CSV: a field is quoted, so a comma in a path stays in the path. */
function csvField(field: string): string {
  return `"${field.replaceAll('"', '""')}"`;
}

/** A container's variables as `docker run` takes them. */
function envFlags(env: Record<string, string>): string[] {
  return Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
}

/** Runs a `docker` command to its end; its error output is the message when it fails. */
function docker(env: Record<string, string>, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(out.trim())
        : reject(new Error(`docker ${args[0]} failed: ${err.trim() || `exit ${code}`}`)),
    );
  });
}

/** Removes containers whatever state they are in; synchronous, so that it also works as Matinee exits. */
export function removeContainers(env: Record<string, string>, names: string[]): void {
  spawnSync('docker', ['rm', '-f', ...names], { env, stdio: 'ignore', timeout: 30_000 });
}

/** Whether a Docker engine answers, within a few seconds. */
export async function dockerAvailable(env: Record<string, string>): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('docker', ['info', '--format', '{{.ServerVersion}}'], { env, stdio: 'ignore' });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(false);
    }, 3000);
    child.on('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}
