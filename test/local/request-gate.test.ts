import { describe, expect, it } from 'vitest';
import { RequestGate } from '../../src/local/request-gate.js';

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('RequestGate', () => {
  it('counts every request per operation and in total, throttled or not', () => {
    const c = clock();
    const gate = new RequestGate({ DescribeJob: { ratePerSecond: 0 } }, c.now);
    expect(gate.admit('CreateJob')).toBe(true);
    expect(gate.admit('DescribeJob')).toBe(false);
    expect(gate.admit('DescribeJob')).toBe(false);
    expect(gate.count('DescribeJob')).toBe(2);
    expect(gate.count('CreateJob')).toBe(1);
    expect(gate.count('data:UpdateJobExecution')).toBe(0);
    expect(gate.count()).toBe(3);
  });

  it('lets a burst through, then refills at ratePerSecond', () => {
    const c = clock();
    const gate = new RequestGate({ AssociateTargetsWithJob: { ratePerSecond: 2, burst: 3 } }, c.now);
    expect([1, 2, 3, 4].map(() => gate.admit('AssociateTargetsWithJob'))).toEqual([true, true, true, false]);
    c.advance(499);
    expect(gate.admit('AssociateTargetsWithJob')).toBe(false);
    c.advance(1);
    expect(gate.admit('AssociateTargetsWithJob')).toBe(true);
    c.advance(10_000);
    // refill is capped at the burst size
    expect([1, 2, 3, 4].map(() => gate.admit('AssociateTargetsWithJob'))).toEqual([true, true, true, false]);
  });

  it('defaults the burst to max(1, rate) and changes or removes limits at runtime', () => {
    const c = clock();
    const gate = new RequestGate({}, c.now);
    gate.setLimit('ListJobs', { ratePerSecond: 0.5 });
    expect(gate.admit('ListJobs')).toBe(true);
    expect(gate.admit('ListJobs')).toBe(false);
    c.advance(2000);
    expect(gate.admit('ListJobs')).toBe(true);
    gate.setLimit('ListJobs', undefined);
    expect([1, 2, 3].map(() => gate.admit('ListJobs'))).toEqual([true, true, true]);
    expect(() => gate.setLimit('ListJobs', { ratePerSecond: -1 })).toThrow(RangeError);
  });
});
