// The data-plane (Jobs over MQTT) operations of the local store, as functions over a JobBook. They
// throw DataPlaneError with the Jobs error codes the device sees on `/rejected`. A job created in a
// namespace is visible only on that namespace's topics, and a job without one only on the default
// topics: `namespaceId` undefined means the default namespace.

import {
  deviceMayTransition,
  isExecutionStatus,
  statusDetailsProblem,
  stepTimeoutProblem,
} from './execution-rules.js';
import type { JobBook, JobState } from './job-book.js';
import { setStepTimer } from './job-configs.js';
import { compareByQueue, type Execution, type ExecutionRecord } from './job-model.js';
import { DataPlaneError, type ExecutionState } from './store-errors.js';

export interface UpdateExecutionRequest {
  namespaceId?: string;
  status: string;
  statusDetails?: Record<string, string>;
  expectedVersion?: number;
  executionNumber?: number;
  stepTimeoutInMinutes?: number;
}

export interface StartNextRequest {
  statusDetails?: Record<string, string>;
  stepTimeoutInMinutes?: number;
}

/** The job's execution for this thing as a device in `namespaceId` sees it, or ResourceNotFound. */
export function deviceExecution(
  book: JobBook,
  thingName: string,
  jobId: string,
  options: { namespaceId?: string; executionNumber?: number },
): { state: JobState; execution: ExecutionRecord } {
  const state = book.jobs.get(jobId);
  const visible = state !== undefined && state.record.namespaceId === options.namespaceId;
  const execution = visible ? book.findExecution(state, thingName, options.executionNumber) : undefined;
  if (!state || !execution) {
    throw new DataPlaneError('ResourceNotFound', `No job execution of job ${jobId} for thing ${thingName}.`);
  }
  return { state, execution };
}

/** Pending executions (latest per job) of jobs in exactly this namespace, each list oldest first. */
export function pendingExecutions(
  book: JobBook,
  thingName: string,
  namespaceId: string | undefined,
): { inProgress: Execution[]; queued: Execution[] } {
  const inProgress: ExecutionRecord[] = [];
  const queued: ExecutionRecord[] = [];
  for (const state of book.jobs.values()) {
    if (state.record.namespaceId !== namespaceId) continue;
    const latest = book.latestExecution(state, thingName);
    if (latest?.status === 'IN_PROGRESS') inProgress.push(latest);
    if (latest?.status === 'QUEUED') queued.push(latest);
  }
  return {
    inProgress: inProgress.sort(compareByQueue).map((e) => book.view(e)),
    queued: queued.sort(compareByQueue).map((e) => book.view(e)),
  };
}

function stateOf(execution: ExecutionRecord): ExecutionState {
  return {
    status: execution.status,
    statusDetails: { ...execution.statusDetails },
    versionNumber: execution.versionNumber,
  };
}

function checkDetails(request: { statusDetails?: unknown; stepTimeoutInMinutes?: unknown }): void {
  const problem =
    statusDetailsProblem(request.statusDetails) ?? stepTimeoutProblem(request.stepTimeoutInMinutes);
  if (problem) throw new DataPlaneError('InvalidRequest', problem);
}

/**
 * UpdateJobExecution. Checks, in order: the status is a known one and statusDetails /
 * stepTimeoutInMinutes are within limits (InvalidRequest); the execution exists in this namespace
 * (ResourceNotFound); the device may make this transition, terminal executions included
 * (InvalidStateTransition); expectedVersion matches (VersionMismatch). statusDetails, when given,
 * replace the previous ones.
 */
export function updateExecution(
  book: JobBook,
  thingName: string,
  jobId: string,
  request: UpdateExecutionRequest,
): Execution {
  if (!isExecutionStatus(request.status)) {
    throw new DataPlaneError(
      'InvalidRequest',
      `status must be one of IN_PROGRESS, SUCCEEDED, FAILED, REJECTED; got ${JSON.stringify(request.status)}`,
    );
  }
  checkDetails(request);
  const { state, execution } = deviceExecution(book, thingName, jobId, request);
  if (!deviceMayTransition(execution.status, request.status)) {
    throw new DataPlaneError(
      'InvalidStateTransition',
      `Cannot update the job execution from ${execution.status} to ${request.status}.`,
      stateOf(execution),
    );
  }
  if (request.expectedVersion !== undefined && request.expectedVersion !== execution.versionNumber) {
    throw new DataPlaneError(
      'VersionMismatch',
      `Expected version ${request.expectedVersion} but the job execution is at version ${execution.versionNumber}.`,
      stateOf(execution),
    );
  }
  if (request.statusDetails !== undefined) execution.statusDetails = { ...request.statusDetails };
  // A step timer only means something for an execution that stays IN_PROGRESS.
  if (request.stepTimeoutInMinutes !== undefined && request.status === 'IN_PROGRESS') {
    setStepTimer(execution, request.stepTimeoutInMinutes, book.nowMs(), book.minuteMs);
  }
  book.setStatus(state, execution, request.status);
  return book.view(execution);
}

/** StartNextPendingJobExecution: starts the next QUEUED one, or returns the IN_PROGRESS one unchanged. */
export function startNextPendingExecution(
  book: JobBook,
  thingName: string,
  namespaceId: string | undefined,
  request: StartNextRequest,
): Execution | undefined {
  checkDetails(request);
  const { inProgress, queued } = pendingExecutions(book, thingName, namespaceId);
  const next = inProgress[0] ?? queued[0];
  if (!next || next.status === 'IN_PROGRESS') return next;
  const { state, execution } = deviceExecution(book, thingName, next.jobId, {
    namespaceId,
    executionNumber: next.executionNumber,
  });
  if (request.statusDetails !== undefined) execution.statusDetails = { ...request.statusDetails };
  if (request.stepTimeoutInMinutes !== undefined) {
    setStepTimer(execution, request.stepTimeoutInMinutes, book.nowMs(), book.minuteMs);
  }
  book.setStatus(state, execution, 'IN_PROGRESS');
  return book.view(execution);
}
