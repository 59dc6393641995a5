import { type Logger, printable } from '@matinee/core';

/** Log lines for a person at a terminal: time, level, message, then the fields as key=value. */
export class ConsoleLogger implements Logger {
  constructor(private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  info(message: string, fields?: Record<string, unknown>): void {
    this.line('info', message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.line('warn', message, fields);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.line('error', message, fields);
  }

  private line(level: string, message: string, fields: Record<string, unknown> = {}): void {
    const time = new Date().toISOString().slice(11, 19);
    // Messages and fields quote pull requests, webhooks, errors and apps: shown as one line of visible
    // text, so that none of it can drive the terminal (escape sequences) or forge a line of its own.
    const rest = Object.entries(fields)
      .map(
        ([key, value]) =>
          `${key}=${printable(typeof value === 'string' ? value : String(JSON.stringify(value)))}`,
      )
      .join(' ');
    this.write(`${time} ${level.padEnd(5)} ${printable(message)}${rest ? `  ${rest}` : ''}`);
  }
}
