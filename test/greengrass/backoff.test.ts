import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from '../../src/greengrass/backoff.js';

describe('reconnectDelayMs', () => {
  const policy = { minMs: 100, maxMs: 1_000 };

  it('doubles from min and stops at max when there is no jitter', () => {
    expect([1, 2, 3, 4, 5, 50].map((n) => reconnectDelayMs(n, policy))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it('takes at most a quarter off with jitter, and stays within [min*3/4, max]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 10_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, jitter) => {
          const delay = reconnectDelayMs(attempt, policy, jitter);
          const plain = reconnectDelayMs(attempt, policy);
          expect(delay).toBeLessThanOrEqual(plain);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(plain * 0.75));
          expect(delay).toBeGreaterThanOrEqual(75);
          expect(delay).toBeLessThanOrEqual(1_000);
        },
      ),
    );
  });

  it('treats max below min as min', () => {
    expect(reconnectDelayMs(5, { minMs: 500, maxMs: 10 })).toBe(500);
  });
});
