/// <reference path="./.sst/platform/config.d.ts" />

export default $config({
  app(input) {
    return {
      name: 'matinee',
      home: 'aws',
      removal: input.stage === 'production' ? 'retain' : 'remove',
      providers: { aws: { version: '7.20.0' } },
    };
  },
  async run() {
    // SST forbids top-level imports in this file: the stacks are loaded here.
    const { readStageInput } = await import('./stacks/settings.ts');
    const { network } = await import('./stacks/network.ts');
    const { edge } = await import('./stacks/edge.ts');
    const { awsContext, cluster } = await import('./stacks/cluster.ts');
    const { data } = await import('./stacks/data.ts');
    const { build } = await import('./stacks/build.ts');
    const { functions } = await import('./stacks/functions.ts');
    const { volumes } = await import('./stacks/volumes.ts');
    const { outputs } = await import('./stacks/outputs.ts');

    const input = readStageInput(process.env, $app.stage);
    const context = awsContext();
    const net = network(input);
    const front = edge(input, net);
    const compute = cluster(input, context);
    const store = data(input.stage);
    const disks = volumes({ input, context, net });
    const builds = build(input, context);
    const control = functions({ input, context, net, front, compute, store, disks, builds });
    return outputs(input, front, control);
  },
});
