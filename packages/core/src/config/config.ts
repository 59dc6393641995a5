import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { accessModes } from '../access/mode.ts';
import { buildSchema, imageSources } from './build.ts';
import { parseDuration } from './duration.ts';
import { fargateMemory } from './fargate.ts';
import { DEFAULT_FORK_LABEL } from './fork-label.ts';
import { volumeList, volumeProblems } from './volumes.ts';

// zod/mini (tree-shakable, a fraction of classic zod in every bundle) ships no messages: English, as classic zod sets it.
if (!z.config().localeError) z.config(en());

const envName = z
  .string()
  .check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name'));
const envVars = z._default(
  z.record(envName, z.pipe(z.union([z.string(), z.number(), z.boolean()]), z.transform(String))),
  {},
);

/** A string runs through `sh -c`; a list is the exec form. */
const command = z.pipe(
  z.union([z.string().check(z.minLength(1)), z.array(z.string()).check(z.minLength(1))]),
  z.transform((value) => (typeof value === 'string' ? ['sh', '-c', value] : value)),
);

const containerName = z
  .string()
  .check(z.regex(/^[a-z][a-z0-9-]{0,62}$/, 'container names are lowercase letters, digits and hyphens'));

const container = z.strictObject({
  /** `{sha}`, `{short_sha}`, `{pr}` and `{branch}` are replaced per environment. Exactly one of image, build. */
  image: z.optional(z.string().check(z.minLength(1))),
  /** Matinee builds the image from the repository at the commit (see build.ts). */
  build: z.optional(buildSchema),
  command: z.optional(command),
  env: envVars,
  /** Directories kept until the pull request closes (see volumes.ts); absent, not `[]`, so digests stay. */
  volumes: volumeList,
});

const duration = z.pipe(
  z.union([z.string(), z.number().check(z.int(), z.positive())]),
  z.transform((value, ctx) => {
    const seconds = typeof value === 'number' ? value : parseDuration(value);
    if (seconds === undefined || seconds <= 0) {
      ctx.issues.push({
        code: 'custom',
        message: `not a duration (like 20m, 1h30m, 90s): ${JSON.stringify(value)}`,
        input: value,
      });
      return z.NEVER;
    }
    return seconds;
  }),
);

const size = z
  .strictObject({
    cpu: z._default(z.number().check(z.int()), 256),
    memory: z._default(z.number().check(z.int()), 512),
  })
  .check(
    z.superRefine(({ cpu, memory }, ctx) => {
      const fits = fargateMemory[cpu];
      if (!fits) {
        ctx.addIssue({
          code: 'custom',
          path: ['cpu'],
          message: `Fargate cpu must be one of ${Object.keys(fargateMemory).join(', ')}`,
        });
      } else if (!fits(memory)) {
        ctx.addIssue({
          code: 'custom',
          path: ['memory'],
          message: `${memory} MiB is not a valid Fargate memory size for cpu ${cpu}`,
        });
      }
    }),
  );

export const configSchema = z
  .strictObject({
    version: z._default(z.literal(1), 1),
    /** The container that serves HTTP; the ALB sends traffic to its port. */
    app: z.extend(container, {
      port: z.number().check(z.int(), z.minimum(1), z.maximum(65535)),
      health: z._default(z.string().check(z.startsWith('/', 'must be a path starting with /')), '/'),
    }),
    /** Other containers of the same task (database, cache, worker), reachable on localhost. */
    sidecars: z._default(z.record(containerName, container), {}),
    size: z._default(size, { cpu: 256, memory: 512 }),
    /** Sleep after this long without a request. */
    idle: z._default(duration, 3600),
    /** Run once in the app container after the environment first becomes healthy. */
    seed: z.optional(command),
    /** Variables for every container; `{host}`, `{url}`, `{pr}`, `{branch}`, `{sha}` are replaced. */
    env: envVars,
    /** Branch globs that never get an environment, e.g. `*-no-infra`. */
    skip: z._default(z.array(z.string().check(z.minLength(1))), []),
    /** Deploy draft pull requests too. */
    drafts: z._default(z.boolean(), false),
    forks: z._default(
      z.strictObject({
        /** `label`: deploy a fork's PR only once a maintainer adds `label`. `never`: not at all. */
        policy: z._default(z.enum(['never', 'label']), 'label'),
        label: z._default(z.string().check(z.minLength(1)), DEFAULT_FORK_LABEL),
      }),
      { policy: 'label', label: DEFAULT_FORK_LABEL },
    ),
    /** Deploy a commit only after this GitHub Actions workflow (its name) succeeded for it: it builds the image. */
    workflow: z.optional(z.string().check(z.minLength(1))),
    /** Fargate Spot (cheaper, may be interrupted) unless false. */
    spot: z._default(z.boolean(), true),
    /** Who may open this repository's previews; only ever stricter than the stage's `MATINEE_ACCESS`. */
    access: z.optional(z.enum(accessModes)),
    /** How `npm start` runs the app without containers. */
    local: z.optional(z.strictObject({ command: command, cwd: z.optional(z.string()) })),
  })
  .check(
    z.superRefine((config, ctx) => {
      const containers = [
        { where: ['app'], volumes: config.app.volumes ?? [] },
        ...Object.entries(config.sidecars).map(([name, sidecar]) => ({
          where: ['sidecars', name],
          volumes: sidecar.volumes ?? [],
        })),
      ];
      for (const problem of volumeProblems(containers)) ctx.addIssue({ code: 'custom', ...problem });
    }),
    imageSources,
  );

export type MatineeConfig = z.output<typeof configSchema>;

export type LoadedConfig =
  | { sha: string; status: 'ok'; digest: string; value: MatineeConfig }
  | { sha: string; status: 'missing' }
  | { sha: string; status: 'invalid'; problems: string[] };

export type ConfigResult =
  | { ok: true; value: MatineeConfig; digest: string }
  | { ok: false; problems: string[] };

/** What a deployment sets for repositories whose `.matinee.yml` does not say (stage settings). */
export interface ConfigDefaults {
  size?: { cpu: number; memory: number };
  /** Seconds. */
  idle?: number;
}

export { DEFAULT_FORK_LABEL };
