import type { Clock, RateLimiter } from '../ports.ts';

/**
 * The rate limiter in one process's memory: local mode, and the core's tests. Fixed windows and distinct
 * events, like the DynamoDB one. Memory is bounded: past `maxKeys` counters, expired ones are dropped first,
 * then the oldest; a dropped counter starts again at zero (locally every client is this machine anyway).
 * A counter holds at most `limit` events.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly counters = new Map<string, { windowEnd: number; events: Set<string> }>();

  constructor(
    private readonly clock: Clock,
    private readonly maxKeys = 10_000,
  ) {}

  async take(key: string, event: string, limit: number, windowSeconds: number) {
    const now = this.clock.now().getTime();
    const windowMs = windowSeconds * 1000;
    const windowEnd = (Math.floor(now / windowMs) + 1) * windowMs;
    const id = `${windowSeconds} ${key}`;
    let counter = this.counters.get(id);
    if (!counter || counter.windowEnd !== windowEnd) {
      this.counters.delete(id);
      this.makeRoom(now);
      counter = { windowEnd, events: new Set() };
      this.counters.set(id, counter);
    }
    if (counter.events.has(event)) return { allowed: true, retryAfterSeconds: 0 };
    if (counter.events.size >= limit)
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((windowEnd - now) / 1000)) };
    counter.events.add(event);
    return { allowed: true, retryAfterSeconds: 0 };
  }

  /** How many counters are held (for tests of the bound). */
  get size(): number {
    return this.counters.size;
  }

  private makeRoom(now: number): void {
    if (this.counters.size < this.maxKeys) return;
    for (const [id, counter] of this.counters) if (counter.windowEnd <= now) this.counters.delete(id);
    // Insertion order is age: the first keys are the ones that started counting longest ago.
    for (const id of this.counters.keys()) {
      if (this.counters.size < this.maxKeys) break;
      this.counters.delete(id);
    }
  }
}
