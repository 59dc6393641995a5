export * from './credentials.ts';
export * from './environment-access.ts';
export * from './links.ts';
export * from './mode.ts';
export * from './policy.ts';
export * from './secret.ts';
export * from './sign-in-policy.ts';
export * from './sign-in-state.ts';
