import type { EnvironmentId, EnvironmentRef, RequestActivity } from '@matinee/core';

/**
 * The local `RequestCount`: the router counts each request it proxies to an app, as the ALB counts a target
 * group's requests (requests answered by the wake path are not the app's traffic). Counted per host and
 * second, kept for a day (idle windows are shorter), so memory stays bounded whatever the traffic.
 */
export class RequestCount {
  private readonly requests = new Map<string, Map<number, number>>();

  add(host: string, at = Date.now()): void {
    const second = Math.floor(at / 1000);
    const buckets = this.requests.get(host) ?? new Map<number, number>();
    buckets.set(second, (buckets.get(second) ?? 0) + 1);
    for (const old of buckets.keys()) {
      if (old >= second - 86_400) break; // insertion order is time order
      buckets.delete(old);
    }
    this.requests.set(host, buckets);
  }

  /** Requests in the whole seconds within [since, until): exact to the second, like a one-second metric. */
  within(refs: EnvironmentRef[], since: Date, until: Date): Map<EnvironmentId, RequestActivity> {
    const activity = new Map<EnvironmentId, RequestActivity>();
    for (const ref of refs) {
      const seen: RequestActivity = { count: 0 };
      for (const [second, n] of this.requests.get(ref.host) ?? []) {
        if (second * 1000 < since.getTime() || second * 1000 >= until.getTime()) continue;
        seen.count += n;
        // The end of the request's second: the same answer however often it is asked.
        const end = new Date((second + 1) * 1000);
        if (!seen.lastAt || end > seen.lastAt) seen.lastAt = end;
      }
      activity.set(ref.id, seen);
    }
    return activity;
  }
}
