/** Summary of repeated measurements, in the unit they were taken in. */
export interface Summary {
  count: number;
  min: number;
  median: number;
  p99: number;
  max: number;
}

export function summarize(samples: number[]): Summary {
  if (!samples.length) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
  return {
    count: sorted.length,
    min: sorted[0] as number,
    median: at(0.5),
    p99: at(0.99),
    max: sorted[sorted.length - 1] as number,
  };
}

/** Runs `run` `warmup` times unmeasured, then `count` times, and returns each duration in milliseconds. */
export async function timeRuns(
  count: number,
  run: (i: number) => Promise<unknown>,
  warmup = Math.min(20, Math.ceil(count / 10)),
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await run(-1 - i);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await run(i);
    samples.push(performance.now() - started);
  }
  return samples;
}

export const ms = (value: number) =>
  value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
