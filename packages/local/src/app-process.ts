import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { type TaskSpec, volumeVariable } from '@matinee/core';
import { removeContainers, seedInContainer } from './docker-runtime.ts';
import type { Task } from './local-task.ts';

/** A free TCP port on loopback, chosen by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A process cannot mount: it is told where each volume's directory is instead (in `volumeVariable(name)`,
 * which in a container names the mount path).
 */
export function volumeDirectories(spec: TaskSpec): Record<string, string> {
  return Object.fromEntries(
    (spec.volumes ?? []).flatMap((v) => (v.source ? [[volumeVariable(v.name), v.source]] : [])),
  );
}

/** `local.command` as a process in its own group, with the app's variables, its volumes and `PORT`. */
export function spawnAppProcess(
  spec: TaskSpec,
  local: NonNullable<TaskSpec['local']>,
  port: number,
  options: { baseEnv: Record<string, string>; defaultCwd: string },
): ChildProcess {
  const app = spec.containers[0];
  const [command = 'true', ...args] = local.command;
  return spawn(command, args, {
    cwd: local.cwd ?? options.defaultCwd,
    env: { ...options.baseEnv, ...app?.env, ...volumeDirectories(spec), PORT: String(port) },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Signals a process's whole group (it was spawned detached, as its group's leader). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

/**
 * `.matinee.yml`'s seed, as the seed container runs on ECS: a process with the app's variables and port or,
 * for a task of containers (network owned by `owner`), a container with the app's image and variables in
 * the task's network. Its own group, like the app's, so a stop reaches whatever it started.
 */
export function spawnSeed(
  spec: TaskSpec,
  seed: string[],
  task: { port: number; owner?: string },
  options: { baseEnv: Record<string, string>; defaultCwd: string },
): ChildProcess {
  const app = spec.containers[0];
  const { owner } = task;
  const [command = 'true', ...args] =
    owner && app ? seedInContainer(owner, app, seed, spec.volumes ?? []) : seed;
  return spawn(command, args, {
    cwd: spec.local?.cwd ?? options.defaultCwd,
    env: owner
      ? options.baseEnv
      : { ...options.baseEnv, ...app?.env, ...volumeDirectories(spec), PORT: String(task.port) },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Ends a task at once, synchronously: its process group, its seed's, and its containers. */
export function killTaskNow(
  task: Pick<Task, 'child' | 'seed' | 'containers'>,
  baseEnv: Record<string, string>,
): void {
  killGroup(task.child, 'SIGKILL');
  if (task.seed) killGroup(task.seed, 'SIGKILL');
  if (task.containers) removeContainers(baseEnv, task.containers);
}
