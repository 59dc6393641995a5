import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTable, documentClient } from '@matinee/aws';
import { motoLife } from '../test/emulator/support/moto-life.ts';
import { INSTALL_MOTO, motoAvailable, startMotoServer } from '../test/emulator/support/moto-server.ts';
import { ID, pullRequest, REPO, SHA_1, serveRepo } from '../test/support/aws-deployment.ts';
import { BUILD_CONFIG, WEB_CONFIG } from '../test/support/configs.ts';
import { serveCodeload } from '../test/support/fake-codeload.ts';
import { FakeGithub } from '../test/support/fake-github.ts';
import { callRows } from './aws-calls.ts';
import type { Row, Section } from './lib/report.ts';
import { summarize } from './lib/stats.ts';

const MIB = 1024 * 1024;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** One open on moto, in two steps: until the build is queued, then from its first event to ready. */
interface Life {
  queued: { calls: string[]; ms: number };
  built: { calls: string[]; ms: number };
}

/**
 * Opens a pull request whose `.matinee.yml` has `build:` (or, with `build` false, the same app pulled by
 * `image:`) on a fresh stage of moto's server, the tarball `sourceBytes` long. The handlers' own time is
 * the sum of every invocation's wall time: CodeBuild's time is not in it (the stand-in moves the build
 * between invocations), round trips to moto, DynamoDB Local and the GitHub stand-in are.
 */
async function openOnce(moto: string, dynamo: string, build: boolean, sourceBytes: number): Promise<Life> {
  const github = await new FakeGithub().start();
  serveRepo(github);
  github.files.set(`${REPO}@${SHA_1}:.matinee.yml`, build ? BUILD_CONFIG : WEB_CONFIG);
  const codeload = await serveCodeload(github, randomBytes(sourceBytes));
  try {
    const tableName = `matinee-bench-${randomUUID()}`;
    const admin = new DynamoDBClient({ endpoint: dynamo, region: 'us-east-1', credentials });
    await createTable(admin, tableName);
    admin.destroy();
    const client = documentClient({ endpoint: dynamo, region: 'us-east-1', credentials });
    const d = await motoLife(github, { endpoint: moto, table: { tableName, client } });
    const handlerMs = (from: number) => d.timings.slice(from).reduce((sum, t) => sum + t.ms, 0);
    // Held in CodeBuild's queue first, so the open settles with the build started and nothing after.
    d.builds.held.add(SHA_1);
    let mark = d.timings.length;
    const queuedCalls = await d.step('open', () =>
      d.webhook('pull_request', pullRequest('opened', SHA_1, '2026-01-01T10:00:00Z')),
    );
    const queued = { calls: queuedCalls, ms: handlerMs(mark) };
    d.builds.held.delete(SHA_1);
    mark = d.timings.length;
    const builtCalls = await d.step('built', async () => {});
    const built = { calls: builtCalls, ms: handlerMs(mark) };
    const env = await d.platform.store.get(ID);
    if (env?.observed.phase !== 'ready') throw new Error(`the preview is ${env?.observed.phase}, not ready`);
    return { queued, built };
  } finally {
    await codeload.stop();
    await github.stop();
  }
}

/**
 * AWS calls and the control plane's own time for open → image built → ready, through every handler on moto
 * with the real CodeBuild builder (test/emulator/support/moto-life.ts), beside the same open with `image:`.
 */
export async function buildFromSource(dynamo: string, runs = 5): Promise<Section> {
  const title = 'Building from source';
  if (!motoAvailable()) return { title, intro: `Not measured here: ${INSTALL_MOTO}.`, rows: [] };
  const server = await startMotoServer();
  const rows: Row[] = [];
  const small = 5 * MIB;
  const large = 50 * MIB;
  try {
    const first = await openOnce(server.endpoint, dynamo, true, small);
    const pulled = await openOnce(server.endpoint, dynamo, false, small);
    rows.push(
      // The request, the upload, the start; then each build event's reconcile request and the open's own.
      ...callRows('open → build queued (5 MiB source)', first.queued.calls, 3),
      ...callRows('build running → image built → ready', first.built.calls, 9),
      ...callRows(
        'for comparison, open → ready with `image:`',
        [...pulled.queued.calls, ...pulled.built.calls],
        8,
      ),
    );
    const time = async (build: boolean, bytes: number) => {
      const lives: Life[] = [];
      for (let i = 0; i < runs; i++) lives.push(await openOnce(server.endpoint, dynamo, build, bytes));
      return lives;
    };
    const withImage = await time(false, small);
    const built = await time(true, small);
    const builtLarge = await time(true, large);
    const total = (life: Life) => life.queued.ms + life.built.ms;
    const image = summarize(withImage.map(total));
    const overhead = summarize(
      built.map(total).map((ms, i) => ms - (withImage[i] ? total(withImage[i]) : 0)),
    );
    const upload = summarize(builtLarge.map((life) => life.queued.ms));
    rows.push(
      {
        what: 'handlers, open → ready with `image:` (no build)',
        summary: image,
        unit: 'ms',
        target: '—',
        met: true,
      },
      {
        what: 'handlers, open → build queued (5 MiB source: download, one PutObject, StartBuild)',
        summary: summarize(built.map((life) => life.queued.ms)),
        unit: 'ms',
        target: 'median ≤ 1000 ms',
        met: summarize(built.map((life) => life.queued.ms)).median <= 1000,
      },
      {
        what: 'handlers, build running → image built → ready',
        summary: summarize(built.map((life) => life.built.ms)),
        unit: 'ms',
        target: '—',
        met: true,
      },
      {
        what: 'a build’s cost in handler time (5 MiB source): open → ready with `build:`, minus with `image:`',
        summary: overhead,
        unit: 'ms',
        target: 'median ≤ 1000 ms',
        met: overhead.median <= 1000,
      },
      {
        what: 'handlers, open → build queued (50 MiB source: 7 parts of 8 MiB)',
        summary: upload,
        unit: 'ms',
        target: 'p99 ≤ 30000 ms (a 500 MB source in a 5-minute reconcile)',
        met: upload.p99 <= 30_000,
      },
    );
  } finally {
    server.stop();
  }
  return {
    title,
    intro: `A pull request whose \`.matinee.yml\` builds its app (\`build:\`, test/support/configs.ts BUILD_CONFIG), through every handler on moto’s server with the real CodeBuild builder, S3 upload and ECR images (test/emulator/support/moto-life.ts); CodeBuild’s own progress and its “Build State Change” events, routed by moto’s rule with the stacks’ pattern to the task-events function, come from test/emulator/support/codebuild-stand-in.ts. The open is counted in two steps: until the build is queued (the build held in CodeBuild’s queue), then from the build’s first event to ready. Times are the sum of every handler invocation’s wall time, ${runs} opens each: the build itself is not in them (it moves between invocations), round trips to moto, DynamoDB Local and the GitHub stand-in on loopback are. Not counted on the stateful fake: its builder (test/support/fake-builder.ts) is in memory and makes no AWS call.`,
    rows,
    after: [
      'Where these miss, and why:',
      '',
      '- **All calls.** Every reconcile describes the environment’s resources before it plans (see the AWS calls section), and a build adds a reconcile per build event: the open’s first one finds no build (ListBuildsForProject, before any download) and starts it; the started and succeeded events each cost a PutEvents from task-events and a reconcile of 8 reads, of which only BatchGetBuilds is about the build. While a build of an environment that has nothing yet runs, its service, target group, rules and task definitions cannot have appeared; reading the build first and describing the rest only once it succeeded would save 7 reads per build event. Not done here.',
      '- **Times.** A build’s cost in handler time is mostly the two reconciles its events ask for (each describing everything, as above) and the tarball’s upload, which grows with the source (compare the 5 and 50 MiB rows; moto’s S3 on loopback here). It is the difference of two sums taken on a shared machine, so single runs swing widely (one has come out below zero); read the medians.',
    ].join('\n'),
  };
}
