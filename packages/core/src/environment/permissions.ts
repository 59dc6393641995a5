import type { RepoPermission } from '../ports.ts';

/** Roles that may approve a fork's deploy and give commands. */
export const WRITERS: ReadonlySet<RepoPermission> = new Set(['admin', 'maintain', 'write']);
