import type { Environment } from '../environment/environment.ts';
import type { RuleAccess, Settings } from '../ports.ts';
import { cookieName } from './credentials.ts';
import { type AccessMode, effectiveAccess, isPrivate } from './mode.ts';

type Facts = Pick<Environment, 'slug' | 'config' | 'policy' | 'accessSecret'>;

/**
 * The mode an environment is opened in: the stage's, made stricter by `.matinee.yml` `access:` at the head
 * commit (or, for a fork, at the base), never looser.
 */
export function accessModeOf(env: Facts, settings: Pick<Settings, 'access'>): AccessMode {
  let mode = settings.access ?? 'public';
  for (const config of [env.config, env.policy])
    if (config?.status === 'ok') mode = effectiveAccess(mode, config.value.access);
  return mode;
}

/**
 * The cookie the environment's host rule requires, or none for a public preview. A private environment
 * always has a secret by the time its rule is made (reconcile gives one to records that lack it).
 */
export function ruleAccessOf(env: Facts, settings: Pick<Settings, 'access'>): RuleAccess | undefined {
  if (!isPrivate(accessModeOf(env, settings))) return undefined;
  if (!env.accessSecret) throw new Error('a private environment needs its access secret before its rule');
  return { cookieName: cookieName(env.slug), secret: env.accessSecret };
}
