import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle, WAKE_BUDGET_KB } from '../../bench/bundles.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** The Node side of SST's `nodejs.plugins`: SST's Go esbuild asks it, one JSON line per import, where to resolve. */
const SST_PLUGIN_BRIDGE = join(ROOT, '.sst/platform/functions/nodejs-runtime/plugin.mjs');

let outdir: string;
beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'matinee-bundle-test-'));
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('the Lambda bundles, as bench/bundles.ts and SST make them', () => {
  it(`keep the wake function within ${WAKE_BUDGET_KB} KB`, async () => {
    const file = await bundle(join(ROOT, 'functions/wake.ts'), outdir);

    expect(statSync(file).size / 1024).toBeLessThanOrEqual(WAKE_BUDGET_KB);
  });

  describe('sign AWS requests', () => {
    let server: Server;
    let seen: IncomingHttpHeaders[];
    let endpoint: string;
    let script: string;
    beforeAll(async () => {
      seen = [];
      server = createServer((request, response) => {
        seen.push(request.headers);
        request.resume();
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end('{}');
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      script = await bundle(join(ROOT, 'test/fixtures/bundled-dynamo-call.ts'), outdir);
    });
    afterAll(() => new Promise<void>((done) => server.close(() => done())));

    /** Runs the bundled call in a fresh Node with only `env` (and a home of its own). */
    async function run(env: Record<string, string>, home: string): Promise<string> {
      const { stdout } = await promisify(execFile)(process.execPath, [script], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          AWS_EC2_METADATA_DISABLED: 'true',
          BUNDLE_TEST_ENDPOINT: endpoint,
          ...env,
        },
      });
      return stdout;
    }

    it('with the credentials Lambda puts in the environment', async () => {
      seen.length = 0;
      const home = mkdtempSync(join(outdir, 'home-'));

      const out = await run(
        {
          AWS_ACCESS_KEY_ID: 'AKIDFROMLAMBDAENV',
          AWS_SECRET_ACCESS_KEY: 'secret',
          AWS_SESSION_TOKEN: 'session-token',
        },
        home,
      );

      expect(out).toBe('sent');
      expect(seen).toHaveLength(1);
      expect(seen[0]?.authorization).toContain('Credential=AKIDFROMLAMBDAENV/');
      expect(seen[0]?.['x-amz-security-token']).toBe('session-token');
    });

    it('and look nowhere else: a profile on disk, which the SDK’s full chain would use, is not read', async () => {
      seen.length = 0;
      const home = mkdtempSync(join(outdir, 'home-'));
      mkdirSync(join(home, '.aws'));
      writeFileSync(
        join(home, '.aws', 'credentials'),
        '[default]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = secret\n',
      );

      const out = await run({}, home);

      expect(out).toMatch(/^failed: .*environment variable credentials/);
      expect(seen).toHaveLength(0);
    });
  });
});

describe.skipIf(!existsSync(SST_PLUGIN_BRIDGE))(
  'SST’s bridge to the plugins file (npm run sst:install)',
  () => {
    /** Asks the bridge, as SST's Go side does, where each import path resolves; its answers in order. */
    async function resolveThroughSst(paths: string[]): Promise<Record<string, unknown>[]> {
      const bridge = spawn(
        process.execPath,
        [SST_PLUGIN_BRIDGE, join(ROOT, 'functions/lib/bundle-plugins.mjs')],
        {
          cwd: ROOT,
          stdio: ['pipe', 'pipe', 'inherit'],
        },
      );
      const replies = new Map<number, Record<string, unknown>>();
      const lines = createInterface({ input: bridge.stdout });
      const done = new Promise<void>((finish) =>
        lines.on('line', (line) => {
          const reply = JSON.parse(line) as { id: number; value: Record<string, unknown> };
          replies.set(reply.id, reply.value);
          if (replies.size === paths.length) finish();
        }),
      );
      paths.forEach((path, id) => {
        const value = {
          path,
          importer: '/x/runtimeConfig.js',
          namespace: 'file',
          resolveDir: '/x',
          kind: 'import-statement',
        };
        bridge.stdin.write(`${JSON.stringify({ id, command: 'resolve', value })}\n`);
      });
      await done;
      bridge.kill();
      return paths.map((_, id) => replies.get(id) ?? {});
    }

    it('sends the SDK’s credential chain to functions/lib/lambda-credentials.ts, and nothing else anywhere', async () => {
      const [chain, other] = await resolveThroughSst([
        '@aws-sdk/credential-provider-node',
        '@aws-sdk/client-dynamodb',
      ]);

      expect(chain).toEqual({ path: join(ROOT, 'functions/lib/lambda-credentials.ts') });
      expect(other).toEqual({});
    });
  },
);
