// The job configurations the local store acts on, as pure functions over a job and its executions:
// timeouts (timeoutConfig.inProgressTimeoutInMinutes and the per-execution step timer), retries
// (jobExecutionsRetryConfig) and aborts (abortConfig). The rules follow AWS's "Job configurations"
// pages; where they are silent, the choice is written next to the rule (and in the README).

import { isTerminal } from './execution-rules.js';
import type { AbortCriterion, ExecutionRecord, JobRecord, RetryCriterion } from './job-model.js';

/** AWS's range for both timers: 1 minute to 7 days. */
export const MAX_TIMEOUT_MINUTES = 10080;
/** At most 10 retries per device, whatever the criteria say in total. */
export const MAX_RETRIES = 10;

/** The in-progress timer starts when the execution first becomes IN_PROGRESS; it never changes. */
export function startInProgressTimer(
  job: JobRecord,
  execution: ExecutionRecord,
  nowMs: number,
  minuteMs: number,
): void {
  const minutes = job.timeoutConfig?.inProgressTimeoutInMinutes;
  if (minutes !== undefined && execution.inProgressDeadline === undefined) {
    execution.inProgressDeadline = nowMs + minutes * minuteMs;
  }
}

/**
 * Each stepTimeoutInMinutes replaces the step timer, counted from now. It cannot extend the
 * in-progress timer: the earlier of the two decides (timeoutDeadline()).
 */
export function setStepTimer(execution: ExecutionRecord, minutes: number, nowMs: number, minuteMs: number) {
  execution.stepTimeoutInMinutes = minutes;
  execution.stepDeadline = nowMs + minutes * minuteMs;
}

export function clearTimers(execution: ExecutionRecord): void {
  delete execution.inProgressDeadline;
  delete execution.stepDeadline;
}

/**
 * Whether a thing whose execution just ended `status` gets a retry, and which attempt it is.
 * Only FAILED and TIMED_OUT are retried (REJECTED, CANCELED and REMOVED never are), and only while
 * the job is IN_PROGRESS. A criterion naming the failure type counts the retries made for that type;
 * without one, an ALL criterion counts every retry of the thing. At most MAX_RETRIES in all.
 */
export function retryDecision(
  job: JobRecord,
  ofThing: ExecutionRecord[],
  status: ExecutionRecord['status'],
): { retryAttempt: number; retryOf: 'FAILED' | 'TIMED_OUT' } | undefined {
  if (job.status !== 'IN_PROGRESS' || !job.retryConfig) return undefined;
  if (status !== 'FAILED' && status !== 'TIMED_OUT') return undefined;
  const retries = ofThing.filter((e) => e.retryOf !== undefined);
  if (retries.length >= MAX_RETRIES) return undefined;
  const specific = job.retryConfig.find((c) => c.failureType === status);
  const all = job.retryConfig.find((c) => c.failureType === 'ALL');
  const allowed = specific
    ? retries.filter((e) => e.retryOf === status).length < specific.numberOfRetries
    : all !== undefined && retries.length < all.numberOfRetries;
  return allowed ? { retryAttempt: retries.length + 1, retryOf: status } : undefined;
}

/** The executions counted by abortConfig: the latest of each thing, once it has finished. */
function executedThings(latestPerThing: ExecutionRecord[]): ExecutionRecord[] {
  return latestPerThing.filter(
    (e) => isTerminal(e.status) && e.status !== 'CANCELED' && e.status !== 'REMOVED',
  );
}

function matchesFailure(criterion: AbortCriterion, status: ExecutionRecord['status']): boolean {
  if (criterion.failureType === 'ALL') {
    return status === 'FAILED' || status === 'REJECTED' || status === 'TIMED_OUT';
  }
  return criterion.failureType === status;
}

/**
 * The abort criterion that is met, if any: at least minNumberOfExecutedThings things have finished
 * (their latest execution is SUCCEEDED, FAILED, REJECTED or TIMED_OUT; a thing with a retry still
 * pending has not) and the share of them that ended with the criterion's failure type is at least
 * thresholdPercentage.
 */
export function abortCriterionMet(
  job: JobRecord,
  latestPerThing: ExecutionRecord[],
): AbortCriterion | undefined {
  if (job.status !== 'IN_PROGRESS' || !job.abortConfig) return undefined;
  const executed = executedThings(latestPerThing);
  return job.abortConfig.find((criterion) => {
    if (executed.length < criterion.minNumberOfExecutedThings) return false;
    const failures = executed.filter((e) => matchesFailure(criterion, e.status)).length;
    return (failures * 100) / executed.length >= criterion.thresholdPercentage;
  });
}

export type { AbortCriterion, RetryCriterion };
