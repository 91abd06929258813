import { doublingDelay } from '../backoff.js';

// Reconnect pacing for the nucleus connection: a pure function so the policy is tested directly.

export interface BackoffPolicy {
  minMs: number;
  maxMs: number;
}

/**
 * Delay before reconnect attempt `attempt` (1-based): min, 2*min, 4*min, ... capped at max. `jitter`
 * in [0, 1) takes up to a quarter off, so components restarted together do not reconnect in lockstep.
 */
export function reconnectDelayMs(attempt: number, policy: BackoffPolicy, jitter = 0): number {
  const base = doublingDelay(attempt, policy.minMs, Math.max(policy.minMs, policy.maxMs));
  const clampedJitter = Math.min(Math.max(jitter, 0), 0.999_999);
  return Math.max(1, Math.round(base * (1 - clampedJitter / 4)));
}
