import { type Logger, printable } from '@matinee/core';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Log lines for a person at a terminal: time, level, message, then the fields as key=value. Lines below
 * `level` (MATINEE_LOG_LEVEL; info unless told) are left out: at info, what happened to each preview
 * (`fix-login-pr42 ready in 1.4 s`); at debug also the steps behind it.
 */
export class ConsoleLogger implements Logger {
  constructor(
    private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    public level: LogLevel = 'info',
  ) {}

  debug(message: string, fields?: Record<string, unknown>): void {
    this.line('debug', message, fields);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.line('info', message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.line('warn', message, fields);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.line('error', message, fields);
  }

  private line(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(this.level)) return;
    const time = new Date().toISOString().slice(11, 19);
    // Messages and fields quote pull requests, webhooks, errors and apps: shown as one line of visible
    // text, so that none of it can drive the terminal (escape sequences) or forge a line of its own.
    const rest = Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(
        ([key, value]) =>
          `${key}=${printable(typeof value === 'string' ? value : String(JSON.stringify(value)))}`,
      )
      .join(' ');
    this.write(`${time} ${level.padEnd(5)} ${printable(message)}${rest ? `  ${rest}` : ''}`);
  }
}
