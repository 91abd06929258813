import { describe, expect, it } from 'vitest';
import type { RetryConfig } from '../../src/config/schema.js';
import { backoffCap, nextDelay, retryDecision } from '../../src/enroll/retry-policy.js';
import { awsError, networkError, seededRandom } from './helpers.js';

const retry: RetryConfig = { maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 20_000, maxTotalMs: 120_000 };
const throttled = awsError('ThrottlingException', 400, 'Rate exceeded');

describe('backoffCap', () => {
  it('doubles from the base delay and stops at the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((a) => backoffCap(a, retry))).toEqual([
      250, 500, 1000, 2000, 4000, 8000, 16000, 20000, 20000,
    ]);
    expect(backoffCap(10_000, retry)).toBe(20_000);
  });
});

describe('nextDelay (full jitter)', () => {
  it('stays within [0, cap) for every attempt, with a seeded random', () => {
    const random = seededRandom(42);
    for (let attempt = 1; attempt <= 12; attempt++) {
      const cap = backoffCap(attempt, retry);
      const delays = Array.from({ length: 500 }, () => nextDelay(attempt, retry, random));
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...delays)).toBeLessThan(cap);
      expect(delays.every(Number.isInteger)).toBe(true);
    }
  });

  it('spreads over the whole range instead of clustering near the cap', () => {
    const random = seededRandom(7);
    const delays = Array.from({ length: 2000 }, () => nextDelay(5, retry, random));
    const cap = backoffCap(5, retry);
    const low = delays.filter((d) => d < cap / 4).length;
    const high = delays.filter((d) => d >= (3 * cap) / 4).length;
    // Uniform: about a quarter each; a "jitter around the cap" policy would have almost none low.
    expect(low).toBeGreaterThan(400);
    expect(high).toBeGreaterThan(400);
  });

  it('maps the ends of random() onto 0 and just below the cap', () => {
    expect(nextDelay(3, retry, () => 0)).toBe(0);
    expect(nextDelay(3, retry, () => 0.999999)).toBe(999);
  });
});

describe('retryDecision', () => {
  const base = { attempt: 1, elapsedMs: 0, retry, random: () => 0.5 };

  it('retries throttling, unavailability, 5xx and network failures', () => {
    for (const error of [
      throttled,
      awsError('ServiceUnavailableException', 503),
      awsError('InternalFailureException', 500),
      awsError('SomethingNew', 502),
      networkError('ECONNREFUSED'),
      networkError('ECONNRESET'),
      Object.assign(new Error('timed out'), { name: 'TimeoutError' }),
    ]) {
      expect(retryDecision({ ...base, error })).toEqual({ retry: true, delayMs: 125 });
    }
  });

  it('never retries the service refusing the request', () => {
    for (const name of ['InvalidRequestException', 'ResourceNotFoundException', 'LimitExceededException']) {
      const status =
        name === 'LimitExceededException' ? 410 : name === 'ResourceNotFoundException' ? 404 : 400;
      expect(retryDecision({ ...base, error: awsError(name, status) })).toEqual({
        retry: false,
        reason: 'not-retryable',
      });
    }
    expect(retryDecision({ ...base, error: new TypeError('bug') })).toEqual({
      retry: false,
      reason: 'not-retryable',
    });
  });

  it('stops after maxAttempts attempts', () => {
    expect(retryDecision({ ...base, attempt: 7, error: throttled }).retry).toBe(true);
    expect(retryDecision({ ...base, attempt: 8, error: throttled })).toEqual({
      retry: false,
      reason: 'attempts-exhausted',
    });
    expect(
      retryDecision({ ...base, attempt: 1, retry: { ...retry, maxAttempts: 1 }, error: throttled }),
    ).toEqual({
      retry: false,
      reason: 'attempts-exhausted',
    });
  });

  it('stops when the next pause would pass maxTotalMs since the first attempt', () => {
    const tight = { ...retry, maxAttempts: 100, maxTotalMs: 10_000 };
    // attempt 6: cap 8000, delay 4000 with random 0.5
    expect(retryDecision({ ...base, retry: tight, attempt: 6, elapsedMs: 6000, error: throttled })).toEqual({
      retry: true,
      delayMs: 4000,
    });
    expect(retryDecision({ ...base, retry: tight, attempt: 6, elapsedMs: 6001, error: throttled })).toEqual({
      retry: false,
      reason: 'time-exhausted',
    });
  });

  it('bounds a whole throttling storm in attempts and in time', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = seededRandom(seed);
      const limits = { maxAttempts: 100, baseDelayMs: 100, maxDelayMs: 5_000, maxTotalMs: 30_000 };
      let elapsedMs = 0;
      let attempt = 1;
      for (;;) {
        const decision = retryDecision({ attempt, elapsedMs, error: throttled, retry: limits, random });
        if (!decision.retry) {
          expect(decision.reason).toBe('time-exhausted');
          break;
        }
        elapsedMs += decision.delayMs;
        attempt++;
        expect(attempt).toBeLessThanOrEqual(100);
      }
      expect(elapsedMs).toBeLessThanOrEqual(limits.maxTotalMs);
    }
  });
});
