import { describe, expect, it } from 'vitest';
import { callWithRetry, type RetryContext } from '../../src/enroll/call-with-retry.js';
import { ControlPlaneUnavailableError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { awsError, fakeClock, seededRandom } from './helpers.js';

function context(
  clock: ReturnType<typeof fakeClock>,
  retry: Partial<RetryContext['retry']> = {},
): RetryContext {
  return {
    retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1_000, maxTotalMs: 60_000, ...retry },
    sleep: clock.sleep,
    random: seededRandom(3),
    now: clock.now,
    startedAt: clock.now(),
    log: silentLogger(),
    calls: { count: 0 },
    endpointDescription: 'iot.us-east-1.amazonaws.com',
  };
}

/** A call that fails with the given errors first, then succeeds. */
function failingThen<T>(errors: Error[], value: T) {
  let n = 0;
  return async () => {
    const err = errors[n++];
    if (err) throw err;
    return value;
  };
}

describe('callWithRetry', () => {
  it('returns at once when the call succeeds', async () => {
    const clock = fakeClock();
    const ctx = context(clock);
    await expect(callWithRetry('DescribeJob', 'job "j"', async () => 'ok', ctx)).resolves.toBe('ok');
    expect(ctx.calls.count).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('retries throttling with growing, jittered pauses and then succeeds', async () => {
    const clock = fakeClock();
    const ctx = context(clock);
    const throttled = awsError('ThrottlingException', 400);
    const call = failingThen([throttled, throttled, throttled], 'ok');
    await expect(callWithRetry('DescribeJob', 'job "j"', call, ctx)).resolves.toBe('ok');
    expect(ctx.calls.count).toBe(4);
    expect(clock.sleeps).toHaveLength(3);
    clock.sleeps.forEach((ms, i) => {
      expect(ms).toBeLessThan(100 * 2 ** i);
    });
  });

  it('rethrows an error that is not worth retrying, without pausing', async () => {
    const clock = fakeClock();
    const ctx = context(clock);
    const notFound = awsError('ResourceNotFoundException', 404);
    await expect(callWithRetry('DescribeJob', 'job "j"', failingThen([notFound], 'ok'), ctx)).rejects.toBe(
      notFound,
    );
    expect(ctx.calls.count).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('gives up after maxAttempts with ControlPlaneUnavailableError naming the call and the cause', async () => {
    const clock = fakeClock();
    const ctx = context(clock);
    const unavailable = awsError('ServiceUnavailableException', 503, 'try later');
    const err = await callWithRetry(
      'AssociateTargetsWithJob',
      'job "j", thing group "g"',
      async () => {
        throw unavailable;
      },
      ctx,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlPlaneUnavailableError);
    expect((err as Error).message).toContain(
      'AssociateTargetsWithJob (job "j", thing group "g") still failing after 5 attempts',
    );
    expect((err as Error).message).toContain('ServiceUnavailableException: try later');
    expect((err as Error).message).toContain('iot.us-east-1.amazonaws.com');
    expect(ctx.calls.count).toBe(5);
    expect(clock.sleeps).toHaveLength(4);
  });

  it('gives up when the total time budget is spent, counting time already used', async () => {
    const clock = fakeClock();
    const ctx = context(clock, { maxAttempts: 100, maxTotalMs: 2_000 });
    clock.advance(1_950); // time spent by earlier calls of the same enrollment
    const err = await callWithRetry(
      'DescribeJob',
      'job "j"',
      async () => {
        throw awsError('ThrottlingException', 400);
      },
      ctx,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlPlaneUnavailableError);
    expect((err as Error).message).toContain('enroll.retry.maxTotalMs reached');
    expect(clock.now() - ctx.startedAt).toBeLessThanOrEqual(2_000);
  });
});
