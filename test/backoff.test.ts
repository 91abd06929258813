import { describe, expect, it } from 'vitest';
import { doublingDelay } from '../src/backoff.js';

describe('doublingDelay', () => {
  it('doubles from the start delay and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => doublingDelay(n, 250, 5_000))).toEqual([
      250, 500, 1_000, 2_000, 4_000, 5_000,
    ]);
  });

  it('treats attempts below 1 as the first and stays finite for huge attempt numbers', () => {
    expect(doublingDelay(0, 100, 1_000)).toBe(100);
    expect(doublingDelay(-3, 100, 1_000)).toBe(100);
    expect(doublingDelay(1e9, 1, 600_000)).toBe(600_000);
  });

  it('never exceeds the cap, even when the start is above it (callers pick their own bound policy)', () => {
    expect(doublingDelay(1, 500, 100)).toBe(100);
  });
});
