import { formatDuration, parseDuration } from '../config/duration.ts';

/** At most `count` events per fixed window of `windowSeconds`. */
export interface RateLimit {
  count: number;
  windowSeconds: number;
}

/**
 * How often the public wake path may act. A stranger who can open every preview's link could otherwise wake
 * them in turn and, at capacity, put to sleep the ones people are using.
 */
export interface WakeLimits {
  /** Wakes one client address may cause, whatever the preview. */
  perClient: RateLimit;
  /** Wakes of one preview, whoever asks. */
  perPreview: RateLimit;
  /** Retries of one failed preview from its page's button. */
  retriesPerPreview: RateLimit;
}

export const DEFAULT_WAKE_LIMITS: WakeLimits = {
  perClient: { count: 10, windowSeconds: 600 },
  perPreview: { count: 6, windowSeconds: 600 },
  retriesPerPreview: { count: 3, windowSeconds: 600 },
};

/** The longest window a limit may have: the counters are kept no longer than their window. */
const MAX_WINDOW_SECONDS = 86_400;
/** A counter remembers each event it counted (one DynamoDB item, at most 400 KB): a few hundred at most. */
const MAX_COUNT = 500;

/** `10/10m` (ten per ten minutes) → a limit; undefined for anything else. */
export function parseRateLimit(text: string): RateLimit | undefined {
  const match = /^(\d{1,4})\/(\S+)$/.exec(text.trim());
  if (!match) return undefined;
  const count = Number(match[1]);
  const windowSeconds = parseDuration(match[2] as string);
  if (count < 1 || count > MAX_COUNT || !windowSeconds || windowSeconds > MAX_WINDOW_SECONDS)
    return undefined;
  return { count, windowSeconds };
}

export function formatRateLimit(limit: RateLimit): string {
  return `${limit.count}/${formatDuration(limit.windowSeconds)}`;
}

/** What a settings reader says about a malformed limit. */
export const RATE_LIMIT_RULE = `a count per duration like 10/10m (1 to ${MAX_COUNT}, per 1s to 1d)`;
