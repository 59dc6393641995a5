import { build } from 'esbuild';

/** IAM service prefix of each AWS SDK client package Matinee's functions use. */
const IAM_PREFIX: Record<string, string> = {
  'client-dynamodb': 'dynamodb',
  'client-ecs': 'ecs',
  'client-efs': 'elasticfilesystem',
  'client-lambda': 'lambda',
  'client-elastic-load-balancing-v2': 'elasticloadbalancing',
  'client-cloudwatch': 'cloudwatch',
  'client-cloudwatch-logs': 'logs',
  'client-eventbridge': 'events',
  'client-resource-groups-tagging-api': 'tag',
  'client-codebuild': 'codebuild',
  'client-s3': 's3',
  'client-ecr': 'ecr',
  'client-iam': 'iam',
};

/** Commands whose IAM action has another name than the command. */
const ACTION_OF: Record<string, string> = { 'lambda:Invoke': 'lambda:InvokeFunction' };

/**
 * The IAM actions a Lambda handler's code can call, derived from the code: the handler is bundled as SST
 * bundles it (ESM, tree-shaken), and every AWS SDK command module that survives into the bundle is an
 * action it may send. Command classes no code path references are shaken out, so the list follows the
 * code, not a list kept by hand. Credential-provider clients (STS, SSO) are not the function's own calls.
 */
export async function sdkActions(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    mainFields: ['module', 'main'],
    outfile: 'bundle.mjs',
    logLevel: 'silent',
  });
  const actions = new Set<string>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const match = /@aws-sdk\/(client-[a-z0-9-]+)\/dist-es\/commands\/([A-Za-z0-9]+)Command\.js$/.exec(path);
      if (!match?.[1] || !match[2] || input.bytesInOutput === 0) continue;
      const prefix = IAM_PREFIX[match[1]];
      if (!prefix) throw new Error(`${entry} uses ${match[1]}, which has no IAM prefix in sdk-actions.ts`);
      const action = `${prefix}:${match[2]}`;
      actions.add(ACTION_OF[action] ?? action);
    }
  }
  return [...actions].sort();
}
