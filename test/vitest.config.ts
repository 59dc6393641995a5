import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// This machine runs Node 20; the SDK's notice about its coming Node 22 floor would bury every test log.
// Set here so the global setup and every worker (which inherit it) stay quiet.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// The repository, not this folder: paths below and in test files are relative to it.
const root = resolve(import.meta.dirname, '..');
const timeouts = { testTimeout: 20_000, hookTimeout: 60_000 };

export default defineConfig({
  root,
  test: {
    // One DynamoDB Local (a JVM) serves every file that needs it, in both projects; see
    // test/support/global-setup.ts. The root's global setup always runs and what it provides is inherited.
    globalSetup: ['test/support/global-setup.ts'],
    projects: [
      {
        test: {
          name: 'main',
          root,
          include: ['test/**/*.test.ts'],
          exclude: ['test/emulator/**', '**/node_modules/**'],
          ...timeouts,
        },
      },
      {
        // The real AWS adapters against moto's server, which only this project starts (test/emulator/README.md).
        test: {
          name: 'emulator',
          root,
          include: ['test/emulator/**/*.test.ts'],
          globalSetup: ['test/emulator/support/global-setup.ts'],
          // After each file, every AWS call its lifecycles made is simulated against the stage's IAM policies.
          setupFiles: ['test/emulator/support/iam-check.ts'],
          ...timeouts,
          // A whole lifecycle is some hundred calls to moto, a Python server: slow on a busy machine.
          testTimeout: 120_000,
          // One file at a time: moto's server answers concurrent bursts (a hundred target groups beside another
          // file's lifecycle) with an occasional HTML 500, which no adapter should be judged by.
          fileParallelism: false,
        },
      },
    ],
  },
});
