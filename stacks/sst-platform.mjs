#!/usr/bin/env node
// SST's platform (.sst/platform): the component sources and provider packages `sst install` writes. It gives
// sst.config.ts and stacks/ their types (stacks/tsconfig.json) and lets test/infra run the stacks under mocks.
// `install` runs `sst install` offline unless the platform already matches the pinned sst and aws versions;
// `check` fails, saying what to run, when it does not.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const platform = path.join(root, '.sst', 'platform');

function wanted() {
  const sst = JSON.parse(
    readFileSync(path.join(root, 'node_modules', 'sst', 'package.json'), 'utf8'),
  ).version;
  const config = readFileSync(path.join(root, 'sst.config.ts'), 'utf8');
  const aws = /aws:\s*{\s*version:\s*['"]([^'"]+)['"]/.exec(config)?.[1];
  return { sst, aws };
}

function installed() {
  try {
    const sst = readFileSync(path.join(platform, 'version'), 'utf8').trim();
    const lock = JSON.parse(readFileSync(path.join(root, '.sst', 'provider-lock.json'), 'utf8'));
    const aws = lock.find((entry) => entry.name === 'aws')?.version;
    const complete =
      existsSync(path.join(platform, 'config.d.ts')) &&
      existsSync(path.join(platform, 'src', 'components', 'index.ts')) &&
      existsSync(path.join(platform, 'node_modules', '@pulumi', 'aws', 'package.json'));
    return complete ? { sst, aws } : undefined;
  } catch {
    return undefined;
  }
}

function current() {
  const want = wanted();
  const have = installed();
  return { want, have, ok: Boolean(have && have.sst === want.sst && have.aws === want.aws) };
}

const command = process.argv[2];
const { want, have, ok } = current();
const describe = (v) => (v ? `sst ${v.sst}, aws ${v.aws}` : 'none');

if (command === 'check') {
  if (!ok) {
    console.error(
      `The SST platform in .sst/platform is ${have ? `stale (${describe(have)}; wanted ${describe(want)})` : 'missing'}.\n` +
        'Run `npm run sst:install` (offline, about 40 s): sst.config.ts, stacks/ and test/infra need it.',
    );
    process.exit(1);
  }
} else if (command === 'install') {
  if (ok && !process.argv.includes('--force')) {
    console.log(`SST platform is current (${describe(have)}).`);
  } else {
    console.log(
      `Installing SST's platform (${describe(want)}) into .sst/platform, offline, about a minute: stacks/ and test/infra need it`,
    );
    const result = spawnSync(path.join(root, 'node_modules', '.bin', 'sst'), ['install', '--stage', 'ci'], {
      cwd: root,
      stdio: 'inherit',
      env: {
        ...process.env,
        SST_TELEMETRY_DISABLED: '1',
        SST_SKIP_DEPENDENCY_CHECK: 'true',
        SST_NO_BUN: 'true',
      },
    });
    if (result.status !== 0) process.exit(result.status ?? 1);
    if (!current().ok) {
      console.error(
        `sst install finished but .sst/platform is ${describe(installed())}, not ${describe(want)}.`,
      );
      process.exit(1);
    }
  }
} else {
  console.error('usage: node stacks/sst-platform.mjs install [--force] | check');
  process.exit(2);
}
