import { resolve } from 'node:path';
import {
  type AccessMode,
  DEFAULT_WAKE_LIMITS,
  parseAccessMode,
  parseDuration,
  parseRateLimit,
  RATE_LIMIT_RULE,
  type RateLimit,
  type WakeLimits,
} from '@matinee/core';
import { LOG_LEVELS, type LogLevel } from './console-logger.ts';

/** What `npm start` can be told, read from the environment in this one place and validated. */
export interface LocalSettings {
  port: number;
  /** The `.matinee.yml` every repository gets. */
  configPath: string;
  /** Overrides the config's idle timeout (`20s` for a demo), as written. */
  idle?: string;
  sweepEverySeconds: number;
  resyncEverySeconds: number;
  /** MATINEE_WEBHOOK_SECRET when set; otherwise the data dir's own (see webhook-secret.ts). */
  webhookSecret?: string;
  /** Everything local mode keeps: the embedded database, app logs. */
  dataDir: string;
  /** What each preview app starts from (see appBaseEnv). */
  appEnv: Record<string, string>;
  /** How often previews may be woken and retried from their links (the same settings as on AWS). */
  limits: WakeLimits;
  /**
   * Who may open previews (MATINEE_ACCESS). `public` unless set: local mode listens on loopback only, so
   * the only visitor is the user; `link` and `github` are there to try them and to test them end to end.
   */
  access: AccessMode;
  /** What the terminal shows: info (what happens to previews) unless MATINEE_LOG_LEVEL says otherwise. */
  logLevel: LogLevel;
  /**
   * `github` mode's sign-in: an OAuth client (a GitHub App's, with `http://localhost:<port>/__matinee/github/callback`
   * registered, or a test double's) and where GitHub is. Required with MATINEE_ACCESS=github.
   */
  github?: { clientId: string; clientSecret: string; oauthUrl?: string; apiUrl?: string };
}

/**
 * Variables an app needs to run like it would in a shell (find its tools, a home, a locale), and nothing
 * else: not Matinee's webhook secret, not whatever credentials the user's shell holds. On AWS a preview
 * task gets nothing of the control plane either.
 */
const APP_VARIABLES = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'TERM'];

export function appBaseEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    APP_VARIABLES.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name] as string]])),
  );
}

export class LocalSettingsError extends Error {}

function url(env: NodeJS.ProcessEnv, name: string, problems: string[]): string | undefined {
  const text = env[name];
  if (!text) return undefined;
  if (!URL.canParse(text) || !/^https?:$/.test(new URL(text).protocol)) {
    problems.push(`${name}=${text} is not an http(s) URL`);
    return undefined;
  }
  return text;
}

/**
 * The OAuth client of `github` mode, read once and taken out of `env` like the webhook secret: nothing this
 * process starts inherits the client secret.
 */
function githubSignIn(
  env: NodeJS.ProcessEnv,
  access: AccessMode,
  problems: string[],
): LocalSettings['github'] {
  const clientId = env.MATINEE_GITHUB_CLIENT_ID || '';
  const clientSecret = env.MATINEE_GITHUB_CLIENT_SECRET || '';
  delete env.MATINEE_GITHUB_CLIENT_SECRET;
  const oauthUrl = url(env, 'MATINEE_GITHUB_OAUTH_URL', problems);
  const apiUrl = url(env, 'MATINEE_GITHUB_API_URL', problems);
  if (access !== 'github') return undefined;
  if (!clientId || !clientSecret) {
    problems.push(
      'MATINEE_ACCESS=github signs people in with an OAuth client: set MATINEE_GITHUB_CLIENT_ID and MATINEE_GITHUB_CLIENT_SECRET',
    );
    return undefined;
  }
  return { clientId, clientSecret, oauthUrl, apiUrl };
}

/**
 * Reads `MATINEE_*` variables; every problem is named with the variable it comes from. MATINEE_WEBHOOK_SECRET
 * is taken out of `env` once read: given `process.env`, nothing this process starts later inherits it, and
 * code in it finds it nowhere but in the settings.
 */
export function readLocalSettings(env: NodeJS.ProcessEnv, cwd: string): LocalSettings {
  const webhookSecret = env.MATINEE_WEBHOOK_SECRET || undefined;
  delete env.MATINEE_WEBHOOK_SECRET;
  const problems: string[] = [];
  const seconds = (name: string, fallback: string): number => {
    const text = env[name] || fallback;
    const value = parseDuration(text);
    if (!value) problems.push(`${name}=${text} is not a duration like 20s, 5m or 1h`);
    return value ?? 0;
  };
  const portText = env.MATINEE_PORT || '8080';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65_535)
    problems.push(`MATINEE_PORT=${portText} is not a TCP port (0-65535; 0 picks a free one)`);
  const idle = env.MATINEE_IDLE || undefined;
  if (idle && !parseDuration(idle))
    problems.push(`MATINEE_IDLE=${idle} is not a duration like 20s, 5m or 1h`);
  const limit = (name: string, fallback: RateLimit): RateLimit => {
    const text = env[name];
    if (!text) return fallback;
    const value = parseRateLimit(text);
    if (!value) problems.push(`${name}=${text} is not ${RATE_LIMIT_RULE}`);
    return value ?? fallback;
  };
  let access: AccessMode = 'public';
  try {
    access = parseAccessMode(env.MATINEE_ACCESS, 'public');
  } catch (error) {
    problems.push((error as Error).message);
  }
  const github = githubSignIn(env, access, problems);
  const logLevel = (env.MATINEE_LOG_LEVEL || 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel))
    problems.push(`MATINEE_LOG_LEVEL=${env.MATINEE_LOG_LEVEL} is not one of ${LOG_LEVELS.join(', ')}`);
  const settings: LocalSettings = {
    access,
    port,
    configPath: resolve(cwd, env.MATINEE_CONFIG || 'examples/hello/.matinee.yml'),
    idle,
    sweepEverySeconds: seconds('MATINEE_SWEEP_EVERY', '1m'),
    resyncEverySeconds: seconds('MATINEE_RESYNC_EVERY', '10m'),
    webhookSecret,
    dataDir: resolve(cwd, env.MATINEE_DATA_DIR || '.matinee'),
    appEnv: appBaseEnv(env),
    limits: {
      perClient: limit('MATINEE_WAKES_PER_CLIENT', DEFAULT_WAKE_LIMITS.perClient),
      perPreview: limit('MATINEE_WAKES_PER_PREVIEW', DEFAULT_WAKE_LIMITS.perPreview),
      retriesPerPreview: limit('MATINEE_RETRIES_PER_PREVIEW', DEFAULT_WAKE_LIMITS.retriesPerPreview),
    },
    logLevel: logLevel as LogLevel,
    github,
  };
  if (problems.length) throw new LocalSettingsError(`Cannot start Matinee:\n  ${problems.join('\n  ')}`);
  return settings;
}
