export * from './document-client.ts';
export * from './dynamo-store.ts';
export * from './errors.ts';
export * from './table.ts';
