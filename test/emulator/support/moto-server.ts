import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { freePort } from '@matinee/local';

/** What to do on a machine without moto; the suite's one line of explanation. */
export const INSTALL_MOTO = 'the emulator suite needs moto\'s server: pip install "moto[server]"';

/** Whether `python3 -m moto.server` can run here (moto and its server extras importable). */
export function motoAvailable(): boolean {
  const probe = spawnSync('python3', ['-c', 'import moto.server, flask, flask_cors'], { stdio: 'ignore' });
  return !probe.error && probe.status === 0;
}

/**
 * Starts moto's server (`python3 -m moto.server`) on a free loopback port and waits until it answers;
 * `stop` ends it. Detached, so the whole process group goes with it.
 */
export async function startMotoServer(): Promise<{ endpoint: string; stop: () => void }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      // One account, us-east-1, no real credentials anywhere near it.
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
    });
    const endpoint = `http://127.0.0.1:${port}`;
    try {
      await waitUntilServing(child, endpoint);
      return { endpoint, stop: () => stop(child) };
    } catch (error) {
      stop(child);
      // Another process took the port between choosing and binding it: choose again.
      if (attempt < 3 && /Address already in use/i.test(String((error as Error).message))) continue;
      throw error;
    }
  }
}

function stop(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

async function waitUntilServing(child: ChildProcess, endpoint: string): Promise<void> {
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });
  // moto imports every service on start: seconds on a quiet machine, much longer on a busy one.
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (spawnError) throw new Error(`could not start moto: ${spawnError.message}`);
    if (child.exitCode !== null) throw new Error(`moto exited with code ${child.exitCode}:\n${output}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`moto did not answer on ${endpoint} within 90 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
