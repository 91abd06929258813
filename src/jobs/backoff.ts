// Retry delays: doubling from min to max. Pure, so the policy is tested without clocks.

/** Delay before retry number `attempt` (1 = the first retry): min * 2^(attempt-1), capped at max. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number): number {
  const lo = Math.max(0, Math.min(minMs, maxMs));
  const exp = Math.min(Math.max(attempt - 1, 0), 30); // 2^30 * anything >= 10 ms is past any cap
  return Math.min(lo * 2 ** exp, Math.max(lo, maxMs));
}
