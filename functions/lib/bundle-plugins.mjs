// esbuild plugins for the Lambda bundles: SST loads this file (`nodejs.plugins` in stacks/functions.ts and
// stacks/volumes.ts) and bench/bundles.ts passes the same list, so the bench measures what is deployed.
// Plain JavaScript: SST imports it with Node, before anything is compiled.
import { fileURLToPath } from 'node:url';

const lambdaCredentials = fileURLToPath(new URL('./lambda-credentials.ts', import.meta.url));

/** @type {import('esbuild').Plugin[]} */
export default [
  {
    name: 'matinee-lambda-credentials',
    setup(build) {
      // The SDK clients' only use of the default chain: `defaultProvider as credentialDefaultProvider`.
      build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, () => ({
        path: lambdaCredentials,
      }));
    },
  },
];
