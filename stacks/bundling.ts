/**
 * How SST bundles every function: with the esbuild plugins in this file (path from sst.config.ts), which
 * bench/bundles.ts also uses, so the sizes and cold starts it reports are those of what is deployed. Today one
 * plugin: the SDK's credential chain reduced to the environment variables Lambda sets
 * (functions/lib/lambda-credentials.ts).
 */
export const LAMBDA_BUNDLING = { plugins: 'functions/lib/bundle-plugins.mjs' } as const;
