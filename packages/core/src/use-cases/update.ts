import type { Environment, EnvironmentId } from '../environment/environment.ts';
import { ConflictError } from '../errors.ts';
import type { EnvironmentStore } from '../ports.ts';

export type Change<T> = { env: Environment; result: T } | { env?: undefined; result: T };

/**
 * Read, decide, conditionally write; on a lost race read again and decide again. `decide` returns the new
 * environment, or no environment to leave it unchanged. The result of the winning decision is returned.
 */
export async function updateEnvironment<T>(
  store: EnvironmentStore,
  id: EnvironmentId,
  decide: (current: Environment | undefined) => Change<T> | Promise<Change<T>>,
  options: {
    attempts?: number /** A copy just read elsewhere (a listing): tried first, saving a read. */;
    read?: Environment;
  } = {},
): Promise<{ env?: Environment; result: T; written: boolean }> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    // The conditional write checks the version, so a stale copy only costs a lost race and a fresh read.
    const current = attempt === 1 && options.read ? options.read : await store.get(id);
    const change = await decide(current);
    if (!change.env) return { env: current, result: change.result, written: false };
    try {
      return { env: await store.save(change.env), result: change.result, written: true };
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt >= attempts) throw error;
    }
  }
}
