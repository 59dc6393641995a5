/** The store port: where environments are kept. */
import type { Environment, EnvironmentId } from '../environment/environment.ts';

/**
 * Persistence of environments. Every write is conditional: `create` fails with ConflictError when the id
 * exists, `save` when the stored `version` is not the one the caller read. Hosts are unique.
 */
export interface EnvironmentStore {
  get(id: EnvironmentId): Promise<Environment | undefined>;
  getByHost(host: string): Promise<Environment | undefined>;
  listByRepo(repo: string): Promise<Environment[]>;
  /** Only environments that hold, or are about to hold, a task (`countsAsAwake`): a sparse index, so cost grows with awake ones. */
  listAwake(): Promise<Environment[]>;
  listAll(): Promise<Environment[]>;
  /**
   * Creates the environment with the first of `slugs` whose host is free, and returns it as stored
   * (version 1). ConflictError when the id already exists.
   */
  create(
    env: Omit<Environment, 'slug' | 'host' | 'version'>,
    slugs: string[],
    domain: string,
  ): Promise<Environment>;
  /** Writes `env` if the stored version is still `env.version`; returns it with the next version. */
  save(env: Environment): Promise<Environment>;
  /** Remembers a webhook delivery id; false when it was already remembered (a redelivery). */
  claimDelivery(deliveryId: string, ttlSeconds: number): Promise<boolean>;
  /** Forgets a delivery whose handling failed, so that GitHub's redelivery is processed. */
  releaseDelivery(deliveryId: string): Promise<void>;
  /**
   * Remembers that a command comment is being obeyed (`key` from `commentKey`); false when it already was,
   * however its event arrived again (a replay may carry a new delivery id).
   */
  claimComment(key: string, ttlSeconds: number): Promise<boolean>;
  /** Forgets a comment whose command failed, so that it can be obeyed when it comes again. */
  releaseComment(key: string): Promise<void>;
}
