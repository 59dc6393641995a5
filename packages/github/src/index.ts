export * from './comment.ts';
export * from './github-source-control.ts';
