// The payloads the data plane publishes, built from store executions (pure; no I/O). Field names and
// shapes follow AWS's Jobs MQTT API: every timestamp is integer epoch seconds, optional fields are
// left out rather than sent as null, and clientToken is echoed only when the request carried one.
import type { Execution } from '../store.js';
import type { ExecutionState } from '../store-errors.js';

/** `JobExecution` as the data plane returns it (describe, start-next, notify-next). */
export interface JobExecutionPayload {
  jobId: string;
  thingName: string;
  status: string;
  statusDetails?: Record<string, string>;
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  versionNumber: number;
  executionNumber: number;
  approximateSecondsBeforeTimedOut?: number;
  jobDocument?: unknown;
}

/** `JobExecutionSummary` (get-pending, notify). */
export interface JobExecutionSummaryPayload {
  jobId: string;
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  versionNumber: number;
  executionNumber: number;
}

/** At most this many summaries appear in one JobExecutionsChanged event (AWS's limit). */
export const MAX_NOTIFY_SUMMARIES = 10;

/** The job document as devices get it: the parsed JSON (the text itself if it is not JSON). */
export function jobDocumentValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function jobExecutionPayload(execution: Execution, jobDocument?: string): JobExecutionPayload {
  const payload: JobExecutionPayload = {
    jobId: execution.jobId,
    thingName: execution.thingName,
    status: execution.status,
    queuedAt: execution.queuedAt,
    lastUpdatedAt: execution.lastUpdatedAt,
    versionNumber: execution.versionNumber,
    executionNumber: execution.executionNumber,
  };
  if (Object.keys(execution.statusDetails).length > 0) payload.statusDetails = { ...execution.statusDetails };
  if (execution.startedAt !== undefined) payload.startedAt = execution.startedAt;
  if (execution.approximateSecondsBeforeTimedOut !== undefined) {
    payload.approximateSecondsBeforeTimedOut = execution.approximateSecondsBeforeTimedOut;
  }
  if (jobDocument !== undefined) payload.jobDocument = jobDocumentValue(jobDocument);
  return payload;
}

export function summaryPayload(execution: Execution): JobExecutionSummaryPayload {
  const summary: JobExecutionSummaryPayload = {
    jobId: execution.jobId,
    queuedAt: execution.queuedAt,
    lastUpdatedAt: execution.lastUpdatedAt,
    versionNumber: execution.versionNumber,
    executionNumber: execution.executionNumber,
  };
  if (execution.startedAt !== undefined) summary.startedAt = execution.startedAt;
  return summary;
}

export function executionStatePayload(execution: Execution | ExecutionState): ExecutionState {
  return {
    status: execution.status,
    statusDetails: { ...execution.statusDetails },
    versionNumber: execution.versionNumber,
  };
}

/** Adds `timestamp` and, when there is one, `clientToken` to a reply body. */
export function withEnvelope<T extends object>(
  body: T,
  timestamp: number,
  clientToken: string | undefined,
): T & { timestamp: number; clientToken?: string } {
  return clientToken === undefined ? { ...body, timestamp } : { ...body, timestamp, clientToken };
}

export interface RejectedPayload {
  code: string;
  message: string;
  timestamp: number;
  clientToken?: string;
  executionState?: ExecutionState;
}

/** The `/rejected` body; `executionState` only for InvalidStateTransition and VersionMismatch. */
export function rejectedPayload(
  code: string,
  message: string,
  timestamp: number,
  clientToken: string | undefined,
  executionState?: ExecutionState,
): RejectedPayload {
  const payload: RejectedPayload = { code, message, timestamp };
  if (clientToken !== undefined) payload.clientToken = clientToken;
  if (executionState && (code === 'InvalidStateTransition' || code === 'VersionMismatch')) {
    payload.executionState = executionStatePayload(executionState);
  }
  return payload;
}

/** JobExecutionsChanged: `{timestamp, jobs: {IN_PROGRESS?, QUEUED?}}`, at most 10 summaries in all. */
export function jobExecutionsChangedPayload(
  pending: { inProgress: Execution[]; queued: Execution[] },
  timestamp: number,
): {
  timestamp: number;
  jobs: { IN_PROGRESS?: JobExecutionSummaryPayload[]; QUEUED?: JobExecutionSummaryPayload[] };
} {
  const inProgress = pending.inProgress.slice(0, MAX_NOTIFY_SUMMARIES);
  const queued = pending.queued.slice(0, MAX_NOTIFY_SUMMARIES - inProgress.length);
  const jobs: { IN_PROGRESS?: JobExecutionSummaryPayload[]; QUEUED?: JobExecutionSummaryPayload[] } = {};
  if (inProgress.length > 0) jobs.IN_PROGRESS = inProgress.map(summaryPayload);
  if (queued.length > 0) jobs.QUEUED = queued.map(summaryPayload);
  return { timestamp, jobs };
}

/** NextJobExecutionChanged: `{timestamp, execution?}`; the execution carries its job document. */
export function nextJobExecutionChangedPayload(
  next: Execution | undefined,
  jobDocument: string | undefined,
  timestamp: number,
): { timestamp: number; execution?: JobExecutionPayload } {
  return next ? { timestamp, execution: jobExecutionPayload(next, jobDocument) } : { timestamp };
}

/** Integer epoch seconds of a millisecond clock reading. */
export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}
