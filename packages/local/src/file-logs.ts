import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogLocation, LogReader, LogRef } from '@matinee/core';

/** How much of the end of a log file is read for its last lines. */
const TAIL_BYTES = 64 * 1024;

/** The file a local service's app and seed write to, in the data dir's `logs/`. */
export function logFileName(service: string): string {
  return `${service}.log`;
}

/** App output locally: one file per service (see ProcessCloud), read from its end. */
export class FileLogs implements LogReader {
  constructor(private readonly dir: string) {}

  locate(ref: LogRef): LogLocation {
    return { path: join(this.dir, logFileName(ref.names.service)) };
  }

  async tail(ref: LogRef, lines: number): Promise<string[]> {
    let file: Awaited<ReturnType<typeof open>>;
    try {
      file = await open(join(this.dir, logFileName(ref.names.service)), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    try {
      const { size } = await file.stat();
      const start = Math.max(0, size - TAIL_BYTES);
      const buffer = Buffer.alloc(size - start);
      await file.read(buffer, 0, buffer.length, start);
      const all = buffer.toString('utf8').split('\n');
      // A read from the middle starts with part of a line: left out.
      if (start > 0) all.shift();
      if (all.at(-1) === '') all.pop();
      return all.slice(-lines);
    } finally {
      await file.close();
    }
  }
}
