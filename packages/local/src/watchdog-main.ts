import { parsePreviews, type RunningPreview, stopPreviews } from './preview-registry.ts';

// The watchdog (see watchdog.ts): reads the running previews, one JSON list a line, from Matinee's pipe;
// when the pipe closes, stops the last ones named and exits.
let previews: RunningPreview[] = [];
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
    const line = pending.slice(0, end);
    pending = pending.slice(end + 1);
    try {
      previews = parsePreviews(JSON.parse(line));
    } catch {
      // not a line Matinee wrote: keep the last good one
    }
  }
});
process.stdin.on('end', () => {
  stopPreviews(previews, { env: process.env as Record<string, string> }).finally(() => process.exit(0));
});
// A terminal's signals are for Matinee: the watchdog has its own session, and ends when Matinee does.
for (const signal of ['SIGINT', 'SIGHUP'] as const) process.on(signal, () => {});
