// The shapes of jobs and executions the local store keeps, plus the pure helpers that derive values
// from them (job process counts, execution ordering, public copies).

import type { ExecutionStatus } from './execution-rules.js';

export type { ExecutionStatus } from './execution-rules.js';

export type JobStatus = 'IN_PROGRESS' | 'CANCELED' | 'COMPLETED' | 'DELETION_IN_PROGRESS' | 'SCHEDULED';
export type TargetSelection = 'CONTINUOUS' | 'SNAPSHOT';

/** One job execution as the Jobs APIs show it. All times are integer epoch SECONDS. */
export interface Execution {
  jobId: string;
  thingName: string;
  executionNumber: number;
  versionNumber: number;
  status: ExecutionStatus;
  statusDetails: Record<string, string>;
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  /** True when the execution was cancelled while IN_PROGRESS (CancelJob/CancelJobExecution with force). */
  forceCanceled?: boolean;
  stepTimeoutInMinutes?: number;
  /** How many retries (jobExecutionsRetryConfig) preceded this execution for this thing; 0 = first try. */
  retryAttempt?: number;
  /** Seconds (in job-timer minutes, see minuteMs) until the service times an IN_PROGRESS execution out. */
  approximateSecondsBeforeTimedOut?: number;
}

/** An accepted AssociateTargetsWithJob call, kept so tests and tools can see what was asked. */
export interface TargetAssociation {
  targets: string[];
  comment?: string;
  namespaceId?: string;
  at: number;
}

export interface JobRecord {
  jobId: string;
  jobArn: string;
  document: string;
  description?: string;
  targets: string[];
  targetSelection: TargetSelection;
  namespaceId?: string;
  status: JobStatus;
  forceCanceled: boolean;
  comment?: string;
  reasonCode?: string;
  createdAt: number;
  lastUpdatedAt: number;
  completedAt?: number;
  /** CreateJob members stored and echoed as given (jobExecutionsRolloutConfig, abortConfig, ...). */
  passthrough: Record<string, unknown>;
  associations: TargetAssociation[];
  /** The timeout, retry and abort configurations the store acts on (job-configs.ts). */
  timeoutConfig?: { inProgressTimeoutInMinutes?: number };
  retryConfig?: RetryCriterion[];
  abortConfig?: AbortCriterion[];
}

export interface RetryCriterion {
  failureType: 'FAILED' | 'TIMED_OUT' | 'ALL';
  numberOfRetries: number;
}

export interface AbortCriterion {
  failureType: 'FAILED' | 'REJECTED' | 'TIMED_OUT' | 'ALL';
  action: 'CANCEL';
  thresholdPercentage: number;
  minNumberOfExecutedThings: number;
}

export interface JobProcessDetails {
  processingTargets: string[];
  numberOfCanceledThings: number;
  numberOfSucceededThings: number;
  numberOfFailedThings: number;
  numberOfRejectedThings: number;
  numberOfQueuedThings: number;
  numberOfInProgressThings: number;
  numberOfRemovedThings: number;
  numberOfTimedOutThings: number;
}

/** An execution as the store keeps it: the public fields plus a global creation sequence for ordering. */
export interface ExecutionRecord extends Execution {
  seq: number;
  /** Epoch ms at which the in-progress timer (timeoutConfig) expires; set when it starts. */
  inProgressDeadline?: number;
  /** Epoch ms at which the current step timer (stepTimeoutInMinutes) expires. */
  stepDeadline?: number;
  /** The failure this execution retries (set on executions queued by jobExecutionsRetryConfig). */
  retryOf?: 'FAILED' | 'TIMED_OUT';
}

/** The earlier of the two timers of an execution (the step timer never outlives the in-progress one). */
export function timeoutDeadline(record: ExecutionRecord): number | undefined {
  const { inProgressDeadline: a, stepDeadline: b } = record;
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/** The clock a public copy is taken with: now (epoch ms) and the length of one job-timer minute. */
export interface TimerClock {
  nowMs: number;
  minuteMs: number;
}

export function publicExecution(record: ExecutionRecord, clock?: TimerClock): Execution {
  const { seq: _seq, inProgressDeadline: _a, stepDeadline: _b, retryOf: _r, statusDetails, ...rest } = record;
  const execution: Execution = { ...rest, statusDetails: { ...statusDetails } };
  const deadline = timeoutDeadline(record);
  if (clock && record.status === 'IN_PROGRESS' && deadline !== undefined) {
    // Reported in job-timer seconds, so a compressed clock shows the values a real one would.
    const remaining = ((deadline - clock.nowMs) / clock.minuteMs) * 60;
    execution.approximateSecondsBeforeTimedOut = Math.max(0, Math.ceil(remaining));
  }
  return execution;
}

/** Oldest first: by queuedAt, then creation order (which is executionNumber order within a job). */
export function compareByQueue(a: ExecutionRecord, b: ExecutionRecord): number {
  return a.queuedAt - b.queuedAt || a.seq - b.seq;
}

const COUNTER: Record<ExecutionStatus, keyof JobProcessDetails> = {
  CANCELED: 'numberOfCanceledThings',
  SUCCEEDED: 'numberOfSucceededThings',
  FAILED: 'numberOfFailedThings',
  REJECTED: 'numberOfRejectedThings',
  QUEUED: 'numberOfQueuedThings',
  IN_PROGRESS: 'numberOfInProgressThings',
  REMOVED: 'numberOfRemovedThings',
  TIMED_OUT: 'numberOfTimedOutThings',
};

/** Counts things by the status of their latest execution of the job, as DescribeJob reports them. */
export function processDetails(job: JobRecord, latestPerThing: Iterable<ExecutionRecord>): JobProcessDetails {
  const details: JobProcessDetails = {
    processingTargets: job.status === 'IN_PROGRESS' ? [...job.targets] : [],
    numberOfCanceledThings: 0,
    numberOfSucceededThings: 0,
    numberOfFailedThings: 0,
    numberOfRejectedThings: 0,
    numberOfQueuedThings: 0,
    numberOfInProgressThings: 0,
    numberOfRemovedThings: 0,
    numberOfTimedOutThings: 0,
  };
  for (const execution of latestPerThing) {
    const key = COUNTER[execution.status] as Exclude<keyof JobProcessDetails, 'processingTargets'>;
    details[key] += 1;
  }
  return details;
}
