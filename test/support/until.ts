/**
 * Polls `probe` until it gives something truthy, and returns it; after `ms` it fails, naming `what`. Every
 * wait in the tests is bounded this way, so a broken behaviour fails a test instead of hanging it.
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
