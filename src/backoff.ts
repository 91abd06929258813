// The one exponential-backoff formula every retry loop in ggjobs shares: Jobs requests and the status
// outbox, transport and nucleus reconnects, enroll's full-jitter cap, the deferred enroll. Callers
// keep their own bound policy (which of min and max wins when they are inverted) and jitter. Pure.

/** start * 2^(attempt - 1) for attempt 1, 2, 3, ..., never above cap. */
export function doublingDelay(attempt: number, startMs: number, capMs: number): number {
  // 2^30 times any start we accept (>= 1 ms) is past every cap we accept; this keeps the power finite.
  const exponent = Math.min(Math.max(Math.floor(attempt) - 1, 0), 30);
  return Math.min(startMs * 2 ** exponent, capMs);
}
