// `npm test` runs this first: it provides what the tests need beyond npm packages (Java for DynamoDB Local,
// Chromium for the end-to-end tests, SST's platform for stacks/), or says in one line per missing thing how
// to get it and exits 1 before anything slow starts. When everything is there it only looks, in about a second.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { distroOf, javaMajorOf, type MachineFacts, planProvisioning } from './provision-plan.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function machineFacts(): MachineFacts {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  const sst = spawnSync(process.execPath, [resolve(ROOT, 'stacks/sst-platform.mjs'), 'check'], {
    stdio: 'ignore',
  });
  return {
    platform: process.platform,
    distro: existsSync('/etc/os-release') ? distroOf(readFileSync('/etc/os-release', 'utf8')) : [],
    root: process.getuid?.() === 0,
    apt: !spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).error,
    javaMajor: java.error ? undefined : javaMajorOf(`${java.stderr}${java.stdout}`),
    chromium: { path: chromium, found: existsSync(chromium) },
    sstPlatform: sst.status === 0,
  };
}

/** Runs a command quietly; on failure shows the tail of what it said, then stops. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const result = spawnSync(command, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status === 0) return;
  const said = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
  console.error(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
  if (said) console.error(said);
  process.exit(1);
}

const plan = planProvisioning(machineFacts());
if (plan.missing.length) {
  for (const line of plan.missing) console.error(line);
  process.exit(1);
}
for (const step of plan.steps) {
  if (step.kind === 'apt') {
    for (const line of step.announce) console.log(line);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update', '-qq'], env);
    run('apt-get', ['install', '-y', '-qq', ...step.packages], env);
  } else {
    const sst = spawnSync(process.execPath, [resolve(ROOT, 'stacks/sst-platform.mjs'), 'install'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    if (sst.status !== 0) process.exit(sst.status ?? 1);
  }
}
