/**
 * Who may open a preview. `public`: anyone with its URL. `link`: whoever holds its secret (the link with
 * `?matinee_token=`, or the cookie that link sets). `github`: as `link`, and people who sign in with GitHub
 * and hold an explicit permission on the repository get the same cookie.
 */
export const accessModes = ['public', 'link', 'github'] as const;
export type AccessMode = (typeof accessModes)[number];

const rank: Record<AccessMode, number> = { public: 0, link: 1, github: 2 };

export function isAccessMode(value: unknown): value is AccessMode {
  return typeof value === 'string' && (accessModes as readonly string[]).includes(value);
}

/** The stage's mode from its setting: `fallback` when unset; a clear error naming the values otherwise. */
export function parseAccessMode(value: string | undefined, fallback: AccessMode): AccessMode {
  const given = value?.trim().toLowerCase();
  if (!given) return fallback;
  if (isAccessMode(given)) return given;
  throw new Error(`MATINEE_ACCESS must be one of ${accessModes.join(', ')}: ${JSON.stringify(value)}`);
}

/**
 * The mode an environment is opened in: the stage's, or the repository's `.matinee.yml` `access:` when that
 * is stricter. A repository can never loosen what the stage decided (a pull request could edit its file).
 */
export function effectiveAccess(stage: AccessMode, repository: AccessMode | undefined): AccessMode {
  return repository && rank[repository] > rank[stage] ? repository : stage;
}

/** Whether a mode keeps a preview from anyone without a credential. */
export function isPrivate(mode: AccessMode): boolean {
  return mode !== 'public';
}
