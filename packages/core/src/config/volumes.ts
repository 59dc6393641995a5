import * as z from 'zod/mini';

/** A volume's name: a DNS label, so it can name a directory, an access point tag and a variable. */
const volumeName = z
  .string()
  .check(
    z.regex(
      /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
      'volume names are DNS labels: lowercase letters, digits and inner hyphens, at most 63, starting with a letter',
    ),
  );

/** Why `path` cannot be a mount point in a container, or undefined when it can. */
export function mountPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (path === '/') return 'cannot be / (a volume hides what is beneath it)';
  if (path.length > 4096) return 'is longer than 4096 characters';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'must not contain control characters';
  const segments = path.slice(1).split('/');
  if (segments.some((segment) => segment === '..')) return 'must not contain ..';
  if (segments.some((segment) => segment === '' || segment === '.'))
    return 'must be normalised (no //, /./ or trailing /)';
  return undefined;
}

const mountPath = z.string().check(
  z.superRefine((path, ctx) => {
    const problem = mountPathProblem(path);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: path });
  }),
);

/** A POSIX id as EFS access points take it. */
const posixId = z.number().check(z.int(), z.minimum(0), z.maximum(2 ** 31 - 1));

export const volumeSchema = z.strictObject({
  name: volumeName,
  /** Where the container sees it. */
  path: mountPath,
  /** Owner of the volume's root directory, for images that insist on owning it (Postgres: 999). */
  uid: z.optional(posixId),
  gid: z.optional(posixId),
});

export const volumeList = z.optional(z.array(volumeSchema));

export type VolumeConfig = z.output<typeof volumeSchema>;

/** The problems of the volumes of all containers together: names unique in the environment, paths per container. */
export function volumeProblems(
  containers: { where: (string | number)[]; volumes: readonly VolumeConfig[] }[],
): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const named = new Map<string, string>();
  for (const { where, volumes } of containers) {
    const paths = new Set<string>();
    volumes.forEach((volume, index) => {
      const at = [...where, 'volumes', index];
      const first = named.get(volume.name);
      if (first !== undefined) {
        problems.push({
          path: [...at, 'name'],
          message: `volume \`${volume.name}\` is already declared at ${first}: names are unique in the environment`,
        });
      } else {
        named.set(volume.name, at.join('.'));
      }
      if (paths.has(volume.path)) {
        problems.push({
          path: [...at, 'path'],
          message: `${volume.path} is already a volume of this container`,
        });
      }
      paths.add(volume.path);
    });
  }
  return problems;
}
