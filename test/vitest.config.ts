import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// This machine runs Node 20; the SDK's notice about its coming Node 22 floor would bury every test log.
// Set here so the global setup and every worker (which inherit it) stay quiet.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export default defineConfig({
  // The repository, not this folder: paths below and in test files are relative to it.
  root: resolve(import.meta.dirname, '..'),
  test: {
    include: ['test/**/*.test.ts'],
    // One DynamoDB Local (a JVM) serves every file that needs it; see test/support/global-setup.ts.
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
