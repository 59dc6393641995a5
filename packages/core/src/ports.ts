/**
 * The ports core talks to the world through, one file a concern under ports/; everything imports them from
 * here. Adapters implement them (packages/aws, packages/local); core imports no SDK.
 */

export * from './ports/github.ts';
export * from './ports/images.ts';
export * from './ports/logs.ts';
export * from './ports/platform.ts';
export * from './ports/router.ts';
export * from './ports/runtime.ts';
export * from './ports/store.ts';
