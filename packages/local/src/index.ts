export * from './in-process-bus.ts';
export * from './process-cloud.ts';
export * from './router.ts';
