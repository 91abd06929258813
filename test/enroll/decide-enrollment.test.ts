// The pure decisions of data-plane-first enrollment: does a recorded enrollment stand, when is it
// checked again, how long does a first boot wait, and what follows a data-plane look.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type EnrollmentRecord,
  enrollmentKey,
  firstBootWaitMs,
  nextReverifyAt,
  recordStanding,
  stepAfterProbe,
} from '../../src/enroll/decide-enrollment.js';

const id = { thingName: 'core-1', region: 'us-east-1', jobId: 'job-a', namespaceId: 'ops' };
const key = enrollmentKey(id);
const record = (patch: Partial<EnrollmentRecord> = {}): EnrollmentRecord => ({
  key,
  via: 'associated',
  verifiedAt: 1_000,
  reverifyAt: 5_000,
  ...patch,
});

describe('enrollmentKey', () => {
  it('differs when the thing, region, job, namespace or group selection differs', () => {
    const variants = [
      { ...id, thingName: 'core-2' },
      { ...id, region: 'eu-west-1' },
      { ...id, jobId: 'job-b' },
      { ...id, namespaceId: 'other' },
      { ...id, thingGroupName: 'site-a' },
      { ...id, thingGroupArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/site-a' },
      { ...id, groupPattern: '^site-' },
      { ...id, endpoint: 'http://127.0.0.1:4580' },
    ];
    const keys = new Set([key, ...variants.map(enrollmentKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });
});

describe('recordStanding', () => {
  it('is none without a record or for a record of another configuration', () => {
    expect(recordStanding(undefined, key, 2_000)).toBe('none');
    expect(recordStanding(record({ key: enrollmentKey({ ...id, jobId: 'job-b' }) }), key, 2_000)).toBe(
      'none',
    );
  });

  it('is fresh between verification and reverifyAt, stale from reverifyAt on', () => {
    expect(recordStanding(record(), key, 1_000)).toBe('fresh');
    expect(recordStanding(record(), key, 4_999)).toBe('fresh');
    expect(recordStanding(record(), key, 5_000)).toBe('stale');
    expect(recordStanding(record(), key, 9_000_000)).toBe('stale');
  });

  it('is stale when the clock went back before the verification (not fresh forever)', () => {
    expect(recordStanding(record(), key, 999)).toBe('stale');
  });
});

describe('nextReverifyAt', () => {
  it('falls between half and all of the interval after now, spread by the random value', () => {
    expect(nextReverifyAt(10_000, 1_000, () => 0)).toBe(10_500);
    expect(nextReverifyAt(10_000, 1_000, () => 0.999_999)).toBe(11_000);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (u) => {
        const at = nextReverifyAt(0, 3_600_000, () => u);
        return at >= 1_800_000 && at <= 3_600_000;
      }),
    );
  });
});

describe('firstBootWaitMs', () => {
  it('is 0 when the window is 0', () => {
    expect(firstBootWaitMs(0, () => 0.7)).toBe(0);
  });

  it('stays within [0, max] and grows with the random value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3_600_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (max, a, b) => {
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const wLo = firstBootWaitMs(max, () => lo);
          const wHi = firstBootWaitMs(max, () => hi);
          return wLo >= 0 && wHi <= max && wLo <= wHi;
        },
      ),
    );
    expect(firstBootWaitMs(30_000, () => 0)).toBe(0);
    expect(firstBootWaitMs(30_000, () => 1)).toBe(30_000);
  });

  it('sends few devices early: of a group of 100, about one acts in the first half of the window', () => {
    // P(wait < max/2) for one device; a group of 100 expects 100x that many early devices.
    const early = (Math.expm1(7 / 2) / Math.expm1(7)) * 100;
    expect(early).toBeGreaterThan(0.5);
    expect(early).toBeLessThan(5);
    // The wait at that quantile is indeed half the window.
    expect(firstBootWaitMs(30_000, () => early / 100)).toBe(15_000);
  });
});

describe('stepAfterProbe', () => {
  it('is enrolled whenever the look found an execution', () => {
    for (const standing of ['none', 'stale', 'fresh'] as const) {
      expect(stepAfterProbe('execution', standing, false)).toBe('enrolled');
      expect(stepAfterProbe('execution', standing, true)).toBe('enrolled');
    }
  });

  it('waits and looks again once at a first boot, then goes to the control plane', () => {
    expect(stepAfterProbe('none', 'none', false)).toBe('wait-and-look-again');
    expect(stepAfterProbe('unknown', 'none', false)).toBe('wait-and-look-again');
    expect(stepAfterProbe('none', 'none', true)).toBe('control-plane');
    expect(stepAfterProbe('unknown', 'none', true)).toBe('control-plane');
  });

  it('goes to the control plane at once when a recorded enrollment finds no execution', () => {
    expect(stepAfterProbe('none', 'stale', false)).toBe('control-plane');
  });
});
