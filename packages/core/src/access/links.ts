import type { Environment } from '../environment/environment.ts';
import { publicUrl, type Settings } from '../ports.ts';
import { linkWithToken } from './credentials.ts';
import { accessModeOf } from './environment-access.ts';

type Facts = Pick<Environment, 'slug' | 'host' | 'config' | 'policy' | 'accessSecret' | 'repoPrivate'>;

/**
 * The address to open the preview with, for places that already checked who is looking (the dashboard,
 * `GET /api/environments`, `matinee ls`): with its token when the preview is private.
 */
export function previewLink(env: Facts, settings: Settings): string {
  const url = publicUrl(settings, env.host);
  const mode = accessModeOf(env, settings);
  return mode !== 'public' && env.accessSecret ? linkWithToken(url, env.accessSecret) : url;
}

/**
 * The address written where GitHub shows it (the pull request comment, the Deployment's environment_url):
 * with the token only in `link` mode on a repository GitHub said is private. A public repository's comment
 * and Deployments are public, so they get the clean URL; in `github` mode people sign in instead.
 */
export function publishedLink(env: Facts, settings: Settings): string {
  const mode = accessModeOf(env, settings);
  return mode === 'link' && env.repoPrivate === true
    ? previewLink(env, settings)
    : publicUrl(settings, env.host);
}
