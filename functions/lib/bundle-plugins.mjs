// esbuild plugins for the Lambda bundles: SST loads this file (`nodejs.plugins`, see stacks/bundling.ts) and
// bench/bundles.ts passes the same list, so the bench measures what is deployed. Plain JavaScript: SST
// imports it with Node, before anything is compiled.
import { fileURLToPath } from 'node:url';

const lambdaCredentials = fileURLToPath(new URL('./lambda-credentials.ts', import.meta.url));
const CREDENTIAL_CHAIN = '@aws-sdk/credential-provider-node';

/** @type {import('esbuild').Plugin[]} */
export default [
  {
    name: 'matinee-lambda-credentials',
    setup(build) {
      // The filter matches everything and the callback decides: SST's bridge to Node plugins
      // (.sst/platform/functions/nodejs-runtime/plugin.mjs) tests filters against a path it does not have, so
      // only a filter that matches anything reaches the callback there (test/integration/lambda-bundles.test.ts).
      // The SDK clients' only use of the chain: `defaultProvider as credentialDefaultProvider`.
      build.onResolve({ filter: /.*/ }, (args) =>
        args.path === CREDENTIAL_CHAIN ? { path: lambdaCredentials } : undefined,
      );
    },
  },
];
