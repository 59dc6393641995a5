export * from './credentials.ts';
export * from './mode.ts';
export * from './policy.ts';
export * from './secret.ts';
