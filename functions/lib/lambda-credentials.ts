import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (see bundle-plugins.mjs). Lambda hands
 * a function its role's credentials in environment variables, the first source the SDK's default chain tries
 * and the only one a Lambda function ever finds; the rest of the chain (SSO, profiles, web identity, a
 * credential process, container and instance metadata, and the STS and SSO clients they use) was ~128 KB of
 * every bundle, parsed at every cold start. Tests, the bench's in-process runs and `npm start` are not bundled
 * and keep the whole chain.
 */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
