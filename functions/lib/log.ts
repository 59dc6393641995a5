import type { Logger } from '@matinee/core';

/**
 * One JSON object per line, which CloudWatch Logs Insights reads as fields. Core callers never pass secrets
 * or request bodies; this logger adds nothing of the request either.
 */
export function jsonLogger(
  base: Record<string, unknown> = {},
  write = (line: string) => console.log(line),
): Logger {
  const line = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    write(JSON.stringify({ level, message, ...base, ...fields }));
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}
