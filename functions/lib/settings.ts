import { domainRoomProblem, MAX_AWAKE, MAX_AWAKE_REASON } from '@matinee/core';
import { en } from 'zod/locales';
import * as z from 'zod/mini';

// zod/mini (tree-shakable, a fraction of classic zod in every bundle) ships no messages: English, as classic zod sets it.
if (!z.config().localeError) z.config(en());

/**
 * Everything a function needs from its deployment, read in one place and validated. On AWS the values come
 * from SST links (`Resource.X`, see stacks/); `parseSettings` takes them as plain data so tests give their own.
 * The names of the linked resources are the contract with stacks/functions.ts.
 */
export const LINKS = {
  table: 'MatineeTable',
  bus: 'MatineeBus',
  settings: 'MatineeSettings',
  githubAppId: 'GithubAppId',
  githubPrivateKey: 'GithubPrivateKey',
  githubToken: 'GithubToken',
  webhookSecret: 'GithubWebhookSecret',
  dashboardPassword: 'DashboardPassword',
  /** The GitHub App's OAuth client, for `MATINEE_ACCESS=github` sign-in. */
  githubClientId: 'GithubClientId',
  githubClientSecret: 'GithubClientSecret',
} as const;

const nonEmpty = z.string().check(z.minLength(1));

const rateLimit = z.object({
  count: z.number().check(z.int(), z.positive()),
  windowSeconds: z.number().check(z.int(), z.positive()),
});

/** The `MatineeSettings` linkable: the stage's shared infrastructure and defaults. */
export const stageSettingsSchema = z.object({
  stage: nonEmpty,
  /** Previews are `<slug>.<domain>`; the dashboard is the domain itself. */
  domain: nonEmpty.check(
    // Every preview host must fit an ALB host rule: a domain that leaves no room for slugs is refused here,
    // not by CreateRule once an environment is half made.
    z.superRefine((domain, ctx) => {
      const problem = domainRoomProblem(domain);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: domain });
    }),
  ),
  region: nonEmpty,
  cluster: z.object({ name: nonEmpty, arn: nonEmpty }),
  loadBalancer: z.object({
    /** CloudWatch's `LoadBalancer` dimension: `app/<name>/<id>`. */
    fullName: nonEmpty,
    listenerArn: nonEmpty,
  }),
  network: z.object({
    vpcId: nonEmpty,
    subnets: z.array(nonEmpty).check(z.minLength(1)),
    securityGroups: z.array(nonEmpty).check(z.minLength(1)),
    assignPublicIp: z.boolean(),
  }),
  roles: z.object({ executionRoleArn: nonEmpty, taskRoleArn: nonEmpty }),
  logGroup: nonEmpty,
  /**
   * `.matinee.yml` volumes: the stage's EFS file system, the janitor function that deletes their data, and the
   * permissions boundary every environment's own role is made with (stacks/volumes.ts).
   */
  volumes: z.optional(
    z.object({ fileSystemId: nonEmpty, janitorFunction: nonEmpty, roleBoundaryArn: nonEmpty }),
  ),
  /** GitHub's REST API: api.github.com unless GitHub Enterprise Server. */
  githubApiUrl: z.optional(z.string().check(z.url())),
  /** Size and idle timeout for repositories whose `.matinee.yml` does not set them. */
  defaults: z.optional(
    z.object({
      cpu: z.number().check(z.int(), z.positive()),
      memory: z.number().check(z.int(), z.positive()),
      idleSeconds: z.number().check(z.int(), z.positive()),
    }),
  ),
  /** Who may open a preview (MATINEE_ACCESS); the load balancer's allow-list and scheme are not the functions' business. */
  access: z.object({ mode: z.enum(['public', 'link', 'github']) }),
  /** Awake environments an ALB can hold: each holds a target group, and the wake function's is the 100th. */
  maxAwake: z.number().check(z.int(), z.minimum(1), z.maximum(MAX_AWAKE, { error: MAX_AWAKE_REASON })),
  /** How often the public wake path may wake and retry (core's DEFAULT_WAKE_LIMITS when absent). */
  limits: z.optional(
    z.object({
      perClient: rateLimit,
      perPreview: rateLimit,
      retriesPerPreview: rateLimit,
    }),
  ),
  /**
   * Building images from source (`.matinee.yml` `build:`): the CodeBuild project, the bucket sources go in,
   * the stage's ECR repository (`matinee-<stage>`, and its URL images are tagged under) and the build log group.
   */
  build: z.optional(
    z.object({
      project: nonEmpty,
      bucket: nonEmpty,
      repository: nonEmpty,
      repositoryUrl: nonEmpty,
      logGroup: nonEmpty,
    }),
  ),
  /** Fargate's prices per hour, for cost estimates (the defaults in core's cost.ts when absent). */
  prices: z.optional(
    z.object({
      vcpuHour: z.number().check(z.positive()),
      gbHour: z.number().check(z.positive()),
      spotVcpuHour: z.number().check(z.positive()),
      spotGbHour: z.number().check(z.positive()),
    }),
  ),
});
export type StageSettings = z.infer<typeof stageSettingsSchema>;

const linkedSchema = z.object({
  [LINKS.table]: z.object({ name: nonEmpty }),
  [LINKS.bus]: z.object({ name: nonEmpty }),
  [LINKS.settings]: stageSettingsSchema,
  [LINKS.githubAppId]: z.object({ value: z.string() }),
  [LINKS.githubPrivateKey]: z.object({ value: z.string() }),
  [LINKS.githubToken]: z.object({ value: z.string() }),
  [LINKS.webhookSecret]: z.object({ value: nonEmpty }),
  [LINKS.dashboardPassword]: z.object({ value: z.string() }),
  [LINKS.githubClientId]: z.object({ value: z.string() }),
  [LINKS.githubClientSecret]: z.object({ value: z.string() }),
});

export type GithubCredentials =
  | { kind: 'app'; appId: string; privateKey: string }
  | { kind: 'token'; token: string };

export interface FunctionSettings {
  stage: StageSettings;
  tableName: string;
  busName: string;
  /** Only for functions that talk to GitHub. */
  github?: GithubCredentials;
  webhookSecret?: string;
  /** Empty: the dashboard is off on AWS (it is never open to the world without one). */
  dashboardPassword?: string;
  /** Only for the function that signs reviewers in, and only when the stage's access mode is `github`. */
  oauth?: { clientId: string; clientSecret: string };
}

/** Secrets a function is linked to; the others are not read (and not linked: least privilege). */
export interface SecretNeeds {
  github?: boolean;
  webhookSecret?: boolean;
  dashboardPassword?: boolean;
  /** The OAuth client: read (and required) only when the stage's access mode is `github`. */
  oauth?: boolean;
}

export class SettingsError extends Error {}

/**
 * Validates what SST linked to a function (`Resource` on AWS, plain data in tests) and names every
 * missing or malformed link in one error.
 */
export function readSettings(linked: Record<string, unknown>, needs: SecretNeeds = {}): FunctionSettings {
  const keys: (keyof typeof LINKS)[] = ['table', 'bus', 'settings'];
  if (needs.github) keys.push('githubAppId', 'githubPrivateKey', 'githubToken');
  if (needs.webhookSecret) keys.push('webhookSecret');
  if (needs.dashboardPassword) keys.push('dashboardPassword');
  if (needs.oauth) keys.push('githubClientId', 'githubClientSecret');
  const shape = Object.fromEntries(keys.map((key) => [LINKS[key], linkedSchema.shape[LINKS[key]]]));
  const parsed = z.object(shape).safeParse(
    pick(
      linked,
      keys.map((key) => LINKS[key]),
    ),
  );
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new SettingsError(
      `Matinee is misconfigured (check the links and secrets in sst.config.ts): ${problems.join('; ')}`,
    );
  }
  const data = parsed.data as Partial<z.infer<typeof linkedSchema>>;
  const value = (key: keyof typeof LINKS) => (data[LINKS[key]] as { value: string } | undefined)?.value ?? '';
  const stage = data[LINKS.settings] as StageSettings;
  return {
    stage,
    tableName: (data[LINKS.table] as { name: string }).name,
    busName: (data[LINKS.bus] as { name: string }).name,
    github: needs.github
      ? githubCredentials(value('githubAppId'), value('githubPrivateKey'), value('githubToken'))
      : undefined,
    webhookSecret: needs.webhookSecret ? value('webhookSecret') : undefined,
    dashboardPassword: needs.dashboardPassword ? value('dashboardPassword') : undefined,
    oauth:
      needs.oauth && stage.access.mode === 'github'
        ? oauthClient(value('githubClientId'), value('githubClientSecret'))
        : undefined,
  };
}

/** Both halves of the OAuth client, or an error naming the secrets (the deploy refuses this first). */
function oauthClient(clientId: string, clientSecret: string): { clientId: string; clientSecret: string } {
  if (!clientId || !clientSecret)
    throw new SettingsError(
      `MATINEE_ACCESS is github, so set the GitHub App's OAuth client: the secrets ${LINKS.githubClientId} and ${LINKS.githubClientSecret}`,
    );
  return { clientId, clientSecret };
}

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    // SST's Resource throws for a name not linked to this function; that is a missing link here.
    try {
      if (key in source) out[key] = source[key];
    } catch {}
  }
  return out;
}

/** GitHub credentials: an App (id and private key) or, failing that, a token. Neither is an error. */
export function githubCredentials(appId: string, privateKey: string, token: string): GithubCredentials {
  // A PEM pasted into one line keeps its line breaks as \n.
  if (appId && privateKey) return { kind: 'app', appId, privateKey: privateKey.replace(/\\n/g, '\n') };
  if (token) return { kind: 'token', token };
  if (appId || privateKey)
    throw new SettingsError(
      `the GitHub App is half configured: set both secrets ${LINKS.githubAppId} and ${LINKS.githubPrivateKey}`,
    );
  throw new SettingsError(
    `no GitHub credentials: set the secrets ${LINKS.githubAppId} and ${LINKS.githubPrivateKey} (a GitHub App), or ${LINKS.githubToken}`,
  );
}
