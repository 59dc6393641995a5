import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');

/** The entry points behind `npm start` and `npm run matinee`, run as package.json runs them. */
export const MAIN = 'packages/local/src/main.ts';
export const CLI = 'packages/local/src/matinee-cli.ts';

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<Finished>;
  /** Ends it and whatever it started (it leads its own process group). */
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts `<entry> ...args` as package.json does, from the repository root with exactly `env` (plus PATH and HOME), as a new
 * user's shell would: a real process, real stdout, stderr and exit status.
 */
export function startEntry(entry: string, args: string[], env: Record<string, string>): Running {
  // `npm start` runs Matinee as `node --import tsx` (no tsx process between npm and Matinee); the CLI via tsx.
  const [command, ...before] = entry === MAIN ? [process.execPath, '--import', 'tsx'] : [TSX];
  const child = spawn(command as string, [...before, entry, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<Finished>((done, fail) => {
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill(signal = 'SIGKILL') {
      if (child.pid === undefined || child.exitCode !== null) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    },
  };
}

/** Runs an entry point to its end. */
export function runEntry(entry: string, args: string[], env: Record<string, string> = {}): Promise<Finished> {
  return startEntry(entry, args, env).exited;
}
