// The retry policy for control-plane calls, pure so it can be tested without clocks.
// Exponential backoff with FULL jitter (the delay is uniform in [0, cap), cap = min(maxDelay,
// base * 2^(attempt-1))): thousands of devices throttled together spread out instead of retrying in
// lockstep. Bounded twice: by attempts and by the total time since the first attempt.
import { doublingDelay } from '../backoff.js';
import type { RetryConfig } from '../config/schema.js';
import { isRetryableError } from './aws-errors.js';

/** The largest delay allowed after the `attempt`-th attempt failed (attempt counts from 1). */
export function backoffCap(attempt: number, retry: Pick<RetryConfig, 'baseDelayMs' | 'maxDelayMs'>): number {
  return doublingDelay(attempt, retry.baseDelayMs, retry.maxDelayMs);
}

/** The pause after the `attempt`-th failed attempt: uniform in [0, cap). `random` returns [0, 1). */
export function nextDelay(
  attempt: number,
  retry: Pick<RetryConfig, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number,
): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * backoffCap(attempt, retry));
}

export type RetryDecision =
  | { retry: true; delayMs: number }
  | { retry: false; reason: 'not-retryable' | 'attempts-exhausted' | 'time-exhausted' };

export interface RetryDecisionInput {
  /** How many attempts were made so far (the one that just failed included). */
  attempt: number;
  /** Milliseconds since the first attempt started. */
  elapsedMs: number;
  error: unknown;
  retry: RetryConfig;
  random: () => number;
}

/** Whether to try again after a failure, and after how long. */
export function retryDecision(input: RetryDecisionInput): RetryDecision {
  if (!isRetryableError(input.error)) return { retry: false, reason: 'not-retryable' };
  if (input.attempt >= input.retry.maxAttempts) return { retry: false, reason: 'attempts-exhausted' };
  const delayMs = nextDelay(input.attempt, input.retry, input.random);
  if (input.elapsedMs + delayMs > input.retry.maxTotalMs) return { retry: false, reason: 'time-exhausted' };
  return { retry: true, delayMs };
}
