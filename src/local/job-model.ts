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
}

export function publicExecution(record: ExecutionRecord): Execution {
  const { seq: _seq, statusDetails, ...rest } = record;
  return { ...rest, statusDetails: { ...statusDetails } };
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
