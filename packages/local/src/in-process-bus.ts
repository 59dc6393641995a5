import type { Bus, EnvironmentId, Logger } from '@matinee/core';

/**
 * The bus on one machine: reconciles run in this process, one at a time per environment (a request
 * arriving during a run makes it run once more), and a failed run is retried with back-off, as
 * EventBridge's retry policy would.
 */
export class InProcessBus implements Bus {
  private readonly dirty = new Set<EnvironmentId>();
  private readonly running = new Map<EnvironmentId, Promise<void>>();
  private readonly retries = new Map<EnvironmentId, { attempt: number; timer: NodeJS.Timeout }>();
  private closed = false;

  constructor(
    private readonly work: (id: EnvironmentId) => Promise<void>,
    private readonly log: Logger,
    private readonly maxAttempts = 8,
  ) {}

  async requestReconcile(ids: EnvironmentId[], _reason?: string): Promise<void> {
    for (const id of ids) this.kick(id);
  }

  private kick(id: EnvironmentId): void {
    if (this.closed) return;
    this.dirty.add(id);
    if (!this.running.has(id)) this.running.set(id, this.drain(id));
  }

  private async drain(id: EnvironmentId): Promise<void> {
    try {
      while (this.dirty.delete(id)) {
        try {
          await this.work(id);
          this.clearRetry(id);
        } catch (error) {
          this.retry(id, error);
        }
      }
    } finally {
      this.running.delete(id);
    }
  }

  private retry(id: EnvironmentId, error: unknown): void {
    const attempt = (this.retries.get(id)?.attempt ?? 0) + 1;
    this.clearRetry(id);
    const message = error instanceof Error ? error.message : String(error);
    if (attempt > this.maxAttempts) {
      this.log.error('reconcile keeps failing; giving up until the next change', { id, error: message });
      return;
    }
    const delay = Math.min(30_000, 250 * 2 ** attempt);
    this.log.warn('reconcile failed; retrying', { id, attempt, delayMs: delay, error: message });
    const timer = setTimeout(() => {
      this.retries.set(id, { attempt, timer });
      this.kick(id);
    }, delay);
    timer.unref();
    this.retries.set(id, { attempt, timer });
  }

  private clearRetry(id: EnvironmentId): void {
    const pending = this.retries.get(id);
    if (pending) clearTimeout(pending.timer);
    this.retries.delete(id);
  }

  /** Resolves once no reconcile is running or asked for (retries waiting on a timer do not count). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all(this.running.values());
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.retries.keys()]) this.clearRetry(id);
    await this.idle();
  }
}
