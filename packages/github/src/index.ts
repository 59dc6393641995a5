export * from './comment.ts';
export * from './github-oauth.ts';
export * from './github-source-control.ts';
export * from './github-tarball.ts';
export * from './receive-webhook.ts';
export * from './webhook-events.ts';
