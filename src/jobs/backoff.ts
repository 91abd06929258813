import { doublingDelay } from '../backoff.js';

// Retry delays: doubling from min to max. Pure, so the policy is tested without clocks.

/** Delay before retry number `attempt` (1 = the first retry): min * 2^(attempt-1), capped at max. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number): number {
  // Inverted bounds: the maximum wins (a retry never waits longer than configured).
  const lo = Math.max(0, Math.min(minMs, maxMs));
  return doublingDelay(attempt, lo, Math.max(lo, maxMs));
}
