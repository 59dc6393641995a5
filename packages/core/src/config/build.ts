import * as z from 'zod/mini';

/** Placeholders a build argument may use: what is known before the image exists (not `{host}`, `{url}`). */
export const BUILD_PLACEHOLDERS = ['sha', 'short_sha', 'pr', 'branch'] as const;

const MAX_ARGS = 50;
const MAX_ARG_LENGTH = 1000;
const MAX_PATH_LENGTH = 1024;

/**
 * Why `path` cannot name a file or directory of the repository (relative to its root, inside it), or
 * undefined when it can. `.` is the root itself.
 */
export function repositoryPathProblem(path: string): string | undefined {
  if (path.length === 0) return 'must not be empty';
  if (path.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'must not contain control characters';
  if (path.includes('\\')) return 'must use / between directories, not \\';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path) || path.startsWith('~'))
    return 'must be relative to the repository root, not an absolute path';
  // `a/../b` stays inside, but nothing is gained by allowing it: every `..` is refused, so no path escapes.
  if (path.split('/').some((segment) => segment === '..'))
    return 'must stay inside the repository: `..` is not allowed';
  return undefined;
}

const repositoryPath = z.string().check(
  z.superRefine((path, ctx) => {
    const problem = repositoryPathProblem(path);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: path });
  }),
);

/** Argument names that say they hold a secret. */
const SECRET_NAME =
  /secret|token|passw(or)?d|passwd|pwd|api_?key|private_?key|access_?key|credential|auth(?!or)/i;
/** Values shaped like a credential: GitHub, AWS, Slack, Stripe, npm tokens, PEM keys, CI secret references. */
const SECRET_VALUE = [
  /\bgh[pousr]_[A-Za-z0-9]{20,}/,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/,
  /\b(AKIA|ASIA)[A-Z0-9]{16}\b/,
  /\bxox[abposr]-[A-Za-z0-9-]{10,}/,
  /\b[sr]k_(live|test)_[A-Za-z0-9]{10,}/,
  /\bnpm_[A-Za-z0-9]{30,}/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\$\{\{\s*secrets\./,
  /:\/\/[^/\s:@]+:[^/\s@]+@/,
];

const SECRETS_REFUSED =
  'secrets are not accepted in build args: they are written into the image and its history, which anyone who can pull it reads';

/** Why build argument `name` = `value` is refused, or undefined. */
export function buildArgProblem(name: string, value: string): string | undefined {
  // Checked here rather than by the record's key schema: a bad name would keep the other checks from running.
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name))
    return 'build arg names are letters, digits and _, not starting with a digit';
  if (SECRET_NAME.test(name)) return `${SECRETS_REFUSED} (the name ${name} says it holds one)`;
  // The value is not echoed: it may be the very secret.
  if (SECRET_VALUE.some((pattern) => pattern.test(value)))
    return `${SECRETS_REFUSED} (its value looks like a credential)`;
  if (value.length > MAX_ARG_LENGTH) return `is longer than ${MAX_ARG_LENGTH} characters`;
  if (value.includes('\0')) return 'must not contain NUL';
  for (const [, placeholder] of value.matchAll(/\{(\w+)\}/g)) {
    if (!(BUILD_PLACEHOLDERS as readonly string[]).includes(placeholder ?? ''))
      return `{${placeholder}} is not known when the image is built: use ${BUILD_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`;
  }
  return undefined;
}

const buildArgs = z._default(
  z.record(z.string(), z.pipe(z.union([z.string(), z.number(), z.boolean()]), z.transform(String))).check(
    z.superRefine((args, ctx) => {
      const names = Object.keys(args);
      if (names.length > MAX_ARGS)
        ctx.addIssue({ code: 'custom', message: `at most ${MAX_ARGS} build args`, input: args });
      for (const name of names) {
        const problem = buildArgProblem(name, args[name] ?? '');
        if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem, input: name });
      }
    }),
  ),
  {},
);

/**
 * `build:` on the app or a sidecar: Matinee builds the container's image from the repository at the commit,
 * as `docker build -f <dockerfile> --target <target> --build-arg … <context>` run at the repository root.
 */
export const buildSchema = z.strictObject({
  /** Relative to the repository root (as `docker build -f` from there), not to `context`. */
  dockerfile: z._default(repositoryPath, 'Dockerfile'),
  context: z._default(repositoryPath, '.'),
  /** A stage of a multi-stage Dockerfile. */
  target: z.optional(
    z
      .string()
      .check(
        z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'a Dockerfile stage name: letters, digits, _, . and -'),
      ),
  ),
  /** `--build-arg`s; `{sha}`, `{short_sha}`, `{pr}` and `{branch}` are replaced. Never secrets. */
  args: buildArgs,
});

export type BuildConfig = z.output<typeof buildSchema>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The problem of a container (as written, not yet validated) with both `image:` and `build:`, or neither. */
function imageSourceProblem(
  where: string[],
  container: unknown,
): { path: string[]; message: string } | undefined {
  if (!isObject(container)) return undefined;
  const image = container.image !== undefined;
  const build = container.build !== undefined;
  if (image && build)
    return {
      path: where,
      message:
        'has both `image` and `build`: use `image` for an image your CI pushes, or `build` for Matinee to build it, not both',
    };
  if (!image && !build)
    return {
      path: where,
      message: 'needs `image` (an image your CI pushes) or `build` (Matinee builds it from a Dockerfile)',
    };
  return undefined;
}

/**
 * Each container's image comes from exactly one of `image:` and `build:`. A check of the whole file that
 * runs even when other parts of it are invalid (it reads the file defensively), so that this problem is
 * named beside theirs.
 */
export const imageSources = z.superRefine<unknown>(
  (config, ctx) => {
    if (!isObject(config)) return;
    const sidecars = isObject(config.sidecars) ? Object.entries(config.sidecars) : [];
    const problems = [
      imageSourceProblem(['app'], config.app),
      ...sidecars.map(([name, sidecar]) => imageSourceProblem(['sidecars', name], sidecar)),
    ];
    for (const problem of problems) if (problem) ctx.addIssue({ code: 'custom', input: config, ...problem });
  },
  { when: () => true },
);
