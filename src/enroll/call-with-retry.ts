// The small loop around one control-plane call: attempt, ask the retry policy, sleep, repeat.
// Sleep, randomness and the clock are injected so tests run instantly and deterministically.
import type { RetryConfig } from '../config/schema.js';
import { ControlPlaneUnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import { describeError } from './aws-errors.js';
import { retryDecision } from './retry-policy.js';

export interface RetryContext {
  retry: RetryConfig;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  now: () => number;
  /** When the whole enrollment started: maxTotalMs bounds all calls together. */
  startedAt: number;
  log: Logger;
  /** Counts every request sent (retries included). */
  calls: { count: number };
  /** For the give-up message: where the device tried to reach AWS IoT. */
  endpointDescription: string;
}

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `call` until it succeeds, fails with an error that is not worth retrying (rethrown as is), or
 * the retry budget is spent (ControlPlaneUnavailableError naming the operation and the last error).
 */
export async function callWithRetry<T>(
  operation: string,
  subject: string,
  call: () => Promise<T>,
  ctx: RetryContext,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    ctx.calls.count++;
    try {
      return await call();
    } catch (err) {
      const elapsedMs = ctx.now() - ctx.startedAt;
      const decision = retryDecision({
        attempt,
        elapsedMs,
        error: err,
        retry: ctx.retry,
        random: ctx.random,
      });
      if (decision.retry) {
        ctx.log.warn(
          { operation, attempt, delayMs: decision.delayMs, error: describeError(err) },
          `${operation} failed, retrying`,
        );
        await ctx.sleep(decision.delayMs);
        continue;
      }
      if (decision.reason === 'not-retryable') throw err;
      const seconds = (elapsedMs / 1000).toFixed(1);
      throw new ControlPlaneUnavailableError(
        `AWS IoT control plane unavailable: ${operation} (${subject}) still failing after ${attempt} attempt${attempt === 1 ? '' : 's'} in ${seconds} s (${decision.reason === 'time-exhausted' ? 'enroll.retry.maxTotalMs reached' : 'enroll.retry.maxAttempts reached'}); last error: ${describeError(err)}. Check the device's network access to ${ctx.endpointDescription} and its AWS credentials, then run ggjobs enroll again.`,
        { cause: err },
      );
    }
  }
}
