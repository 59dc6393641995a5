import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RunningPreview } from './preview-registry.ts';

/** Told what runs each time it changes; once Matinee is gone, however it went, it stops that. */
export interface Watchdog {
  pid?: number;
  update(previews: RunningPreview[]): void;
  /** Matinee stops on its own: nothing is left to stop, the watchdog exits. */
  close(): void;
}

/**
 * Previews must not outlive Matinee, even when it is killed outright (SIGKILL, the OOM killer), which no
 * handler in Matinee sees. Linux can tie a child's life to its parent's (prctl PR_SET_PDEATHSIG), but Node
 * does not expose it, and previews run in process groups of their own (so that a stop reaches whatever
 * they start). So a small process of its own session watches instead: Matinee holds the write end of its
 * stdin and sends it the running previews as JSON lines; when that pipe closes, Matinee is gone, and the
 * watchdog stops what the last line named (see watchdog-main.ts), then exits. Killed together with Matinee
 * (`kill -9` on both), the next start stops the leftovers from the data dir's record instead.
 */
export function startWatchdog(env: Record<string, string>): Watchdog {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const main = fileURLToPath(new URL('./watchdog-main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', tsx, main], {
    env,
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.on('error', () => {});
  const stdin = child.stdin;
  stdin?.on('error', () => {}); // the watchdog is gone: the next start's cleanup remains
  // Neither keeps Matinee running: the watchdog is there for when Matinee ends.
  child.unref();
  (stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    pid: child.pid,
    update(previews) {
      if (stdin?.writable) stdin.write(`${JSON.stringify(previews)}\n`);
    },
    close() {
      if (stdin?.writable) stdin.end('[]\n');
    },
  };
}
