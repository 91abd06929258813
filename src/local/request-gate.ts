// Per-operation request counting and rate limiting for the local stack. Every control-plane request
// and every data-plane ('data:...') request passes admit() first: it is always counted (tests assert how
// often ggjobs called an API), then refused when the operation's token bucket is empty, which the
// caller answers with AWS's throttling error. Pure, with an injectable clock.

export interface RateLimit {
  /** Tokens added per second. 0 throttles every request once the burst is used up. */
  ratePerSecond: number;
  /**
   * Bucket size: how many requests may pass at once. Defaults to max(1, ratePerSecond), or 0 when
   * ratePerSecond is 0 (throttle everything).
   */
  burst?: number;
}

interface Bucket {
  ratePerSecond: number;
  capacity: number;
  tokens: number;
  refilledAt: number;
}

function bucketFor(limit: RateLimit, now: number): Bucket {
  if (!Number.isFinite(limit.ratePerSecond) || limit.ratePerSecond < 0) {
    throw new RangeError(`ratePerSecond must be a finite number >= 0, got ${limit.ratePerSecond}`);
  }
  const capacity = limit.burst ?? (limit.ratePerSecond === 0 ? 0 : Math.max(1, limit.ratePerSecond));
  if (!Number.isFinite(capacity) || capacity < 0) {
    throw new RangeError(`burst must be a finite number >= 0, got ${limit.burst}`);
  }
  return { ratePerSecond: limit.ratePerSecond, capacity, tokens: capacity, refilledAt: now };
}

export class RequestGate {
  private readonly counts = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;

  /** `now` returns milliseconds (defaults to Date.now). */
  constructor(limits: Record<string, RateLimit> = {}, now: () => number = Date.now) {
    this.now = now;
    for (const [operation, limit] of Object.entries(limits)) this.setLimit(operation, limit);
  }

  /** Counts the request, then answers false when the operation is throttled (its bucket is empty). */
  admit(operation: string): boolean {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
    const bucket = this.buckets.get(operation);
    if (!bucket) return true;
    const now = this.now();
    const elapsedSeconds = Math.max(0, now - bucket.refilledAt) / 1000;
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens + elapsedSeconds * bucket.ratePerSecond);
    bucket.refilledAt = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Requests seen for one operation (admitted or throttled), or for all operations without an argument. */
  count(operation?: string): number {
    if (operation !== undefined) return this.counts.get(operation) ?? 0;
    let total = 0;
    for (const value of this.counts.values()) total += value;
    return total;
  }

  /** Sets (a full bucket) or, with undefined, removes the rate limit of one operation. */
  setLimit(operation: string, limit?: RateLimit): void {
    if (limit === undefined) this.buckets.delete(operation);
    else this.buckets.set(operation, bucketFor(limit, this.now()));
  }
}
