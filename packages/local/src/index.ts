export * from './process-cloud.ts';
