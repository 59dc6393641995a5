import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { environmentId } from '@matinee/core';
import { freePort, readLocalSettings, readWebhookSecret, runCli, startLocal } from '@matinee/local';
import type { Section } from './lib/report.ts';
import { summarize } from './lib/stats.ts';

const ROOT = resolve(import.meta.dirname, '..');
const HELLO = join(ROOT, 'examples/hello');
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function get(port: number, host: string, path = '/'): Promise<number> {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, accept: '*/*' } }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
    });
    req.on('error', () => done(0));
    req.end();
  });
}

async function until(probe: () => Promise<boolean> | boolean, ms = 20_000): Promise<number> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
  return performance.now();
}

/** The example app's own start: spawn to its first healthy answer. */
async function appStartMs(): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn('node', ['server.js'], { cwd: HELLO, env: { ...process.env, PORT: String(port) } });
  try {
    return (await until(async () => (await get(port, 'localhost', '/health')) === 200)) - started;
  } finally {
    child.kill('SIGKILL');
  }
}

export async function localMode(runs = 10): Promise<Section> {
  const dataDir = mkdtempSync(join(tmpdir(), 'matinee-bench-'));
  const settings = readLocalSettings(
    {
      PATH: process.env.PATH,
      MATINEE_PORT: '0',
      MATINEE_DATA_DIR: dataDir,
      // Every run wakes a preview from this one address: measured, not limited.
      MATINEE_WAKES_PER_CLIENT: '500/10m',
    },
    ROOT,
  );
  const matinee = await startLocal({ ...settings, port: 0 }, quiet);
  const cli = (...argv: string[]) =>
    runCli(argv, {
      baseUrl: `http://127.0.0.1:${matinee.port}`,
      secret: readWebhookSecret(dataDir) ?? '',
      print: () => {},
    });
  const healthyToServed: number[] = [];
  const wakeOverhead: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const pr = 100 + i;
      const host = `bench-pr${pr}.localhost`;
      const id = environmentId('bench/app', pr);
      await cli('open', 'bench/app', String(pr), 'bench');
      const healthy = await until(() =>
        matinee.cloud.processes().some((p) => p.service.includes(`bench-pr${pr}`) && p.healthy),
      );
      const served = await until(async () => (await get(matinee.port, host)) === 200);
      healthyToServed.push(served - healthy);

      await cli('sleep', 'bench/app', String(pr));
      await until(async () => (await matinee.store.get(id))?.observed.phase === 'sleeping');
      await matinee.settled();
      const own = await appStartMs();
      const asked = performance.now();
      const answered = await until(async () => (await get(matinee.port, host)) === 200);
      wakeOverhead.push(answered - asked - own);
      await cli('close', 'bench/app', String(pr));
    }
  } finally {
    await matinee.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const a = summarize(healthyToServed);
  const b = summarize(wakeOverhead);
  return {
    title: 'Local mode',
    intro:
      "npm start with examples/hello. Polling every 2 ms, so figures include up to that much wait. The second row is the time from the first request on a sleeping environment to the app answering, minus the app's own start time (spawn to first healthy /health, measured on its own each run).",
    rows: [
      {
        what: 'target healthy → first proxied response',
        summary: a,
        unit: 'ms',
        target: '≤ 2000 ms',
        met: a.p99 <= 2000,
      },
      {
        what: 'wake overhead (request on sleeping → app answers, minus app start)',
        summary: b,
        unit: 'ms',
        target: '≤ 1000 ms',
        met: b.p99 <= 1000,
      },
    ],
  };
}
