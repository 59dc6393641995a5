import { nearestName } from '@matinee/core';

/** What `npm start` and the CLI read (local-settings.ts); documented in README's local-mode table. */
export const LOCAL_VARIABLES = [
  'MATINEE_PORT',
  'MATINEE_CONFIG',
  'MATINEE_IDLE',
  'MATINEE_SWEEP_EVERY',
  'MATINEE_RESYNC_EVERY',
  'MATINEE_WEBHOOK_SECRET',
  'MATINEE_DATA_DIR',
  'MATINEE_WAKES_PER_CLIENT',
  'MATINEE_WAKES_PER_PREVIEW',
  'MATINEE_RETRIES_PER_PREVIEW',
  'MATINEE_ACCESS',
  'MATINEE_GITHUB_CLIENT_ID',
  'MATINEE_GITHUB_CLIENT_SECRET',
  'MATINEE_GITHUB_OAUTH_URL',
  'MATINEE_GITHUB_API_URL',
  'MATINEE_LOG_LEVEL',
] as const;

/**
 * What `sst deploy` reads (stacks/settings.ts, kept equal by a test): often exported in the same shell, so
 * known here, and ignored by local mode.
 */
export const DEPLOY_VARIABLES = [
  'MATINEE_DOMAIN',
  'MATINEE_HOSTED_ZONE',
  'MATINEE_VPC_ID',
  'MATINEE_SUBNET_IDS',
  'MATINEE_TASK_CPU',
  'MATINEE_TASK_MEMORY',
  'MATINEE_IDLE',
  'MATINEE_SWEEP_SCHEDULE',
  'MATINEE_RESYNC_SCHEDULE',
  'MATINEE_MAX_AWAKE',
  'MATINEE_FARGATE_PRICES',
  'MATINEE_GITHUB_API_URL',
  'MATINEE_WAKES_PER_CLIENT',
  'MATINEE_WAKES_PER_PREVIEW',
  'MATINEE_RETRIES_PER_PREVIEW',
  'MATINEE_ECR_REPOSITORIES',
  'MATINEE_PREVIEW_EGRESS',
  'MATINEE_ACCESS',
  'MATINEE_ALLOW_CIDRS',
  'MATINEE_INTERNAL',
  'MATINEE_BUILD_COMPUTE',
] as const;

/** Set by Matinee for preview apps, and read by this repository's tests and CI. */
const OTHER_VARIABLES = [
  'MATINEE_BRANCH',
  'MATINEE_SHA',
  'MATINEE_PR',
  'MATINEE_URL',
  'MATINEE_SCREENSHOTS',
  'MATINEE_PRINT_AWS_CALLS',
  'MATINEE_REQUIRE_EMULATOR',
  'MATINEE_MOTO_ENDPOINT',
] as const;

export const KNOWN_VARIABLES: ReadonlySet<string> = new Set([
  ...LOCAL_VARIABLES,
  ...DEPLOY_VARIABLES,
  ...OTHER_VARIABLES,
]);

const PREFIX = 'MATINEE_';

/**
 * One line for each `MATINEE_*` variable nothing reads, so a typo (`MATINEE_PROT=9090`) is not silently
 * ignored: it names the variable and, when it is obvious, the one that was meant.
 */
export function unknownVariableWarnings(env: NodeJS.ProcessEnv): string[] {
  const suffixes = [...KNOWN_VARIABLES].map((name) => name.slice(PREFIX.length));
  return Object.keys(env)
    .filter((name) => name.toUpperCase().startsWith(PREFIX) && !KNOWN_VARIABLES.has(name))
    .sort()
    .map((name) => {
      const meant = nearestName(name.slice(PREFIX.length), suffixes);
      // Names come from the user's shell: printable ASCII only, so the warning stays one line.
      const shown = name.replace(/[^\x21-\x7e]/g, '?');
      return `${shown} is not a variable Matinee reads: ignored${meant ? ` (did you mean ${PREFIX}${meant}?)` : ''}`;
    });
}
