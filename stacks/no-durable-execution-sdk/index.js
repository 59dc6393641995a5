// sst 4.17.1 depends on @aws/durable-execution-sdk-js for `sst/aws/workflow` only. Matinee does not use it, and
// every version of it declares Node 22, so installing it made `npm install` warn on the Node 20 this project
// supports. The root package.json's `overrides` puts this file in its place: importing it says why, loudly.
throw new Error(
  '@aws/durable-execution-sdk-js is not installed in Matinee (see `overrides` in package.json): sst/aws/workflow needs it and Node 22',
);
