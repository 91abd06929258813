// How store records look on the wire: AWS IoT's response member names, dates as epoch seconds.
// Undefined members are dropped by JSON.stringify, as AWS omits unset members.

import { thingArn } from '../arn.js';
import type { Execution, JobProcessDetails, JobRecord, LocalStore } from '../store.js';

export function jobView(job: JobRecord, processDetails: JobProcessDetails): object {
  return {
    ...job.passthrough,
    jobArn: job.jobArn,
    jobId: job.jobId,
    targetSelection: job.targetSelection,
    status: job.status,
    forceCanceled: job.forceCanceled,
    reasonCode: job.reasonCode,
    comment: job.comment,
    targets: job.targets,
    description: job.description,
    createdAt: job.createdAt,
    lastUpdatedAt: job.lastUpdatedAt,
    completedAt: job.completedAt,
    jobProcessDetails: processDetails,
    namespaceId: job.namespaceId,
    isConcurrent: false,
  };
}

export function jobSummary(job: JobRecord, thingGroupId: string | undefined): object {
  return {
    jobArn: job.jobArn,
    jobId: job.jobId,
    thingGroupId,
    targetSelection: job.targetSelection,
    status: job.status,
    createdAt: job.createdAt,
    lastUpdatedAt: job.lastUpdatedAt,
    completedAt: job.completedAt,
    isConcurrent: false,
  };
}

export function executionSummary(execution: Execution): object {
  return {
    status: execution.status,
    queuedAt: execution.queuedAt,
    startedAt: execution.startedAt,
    lastUpdatedAt: execution.lastUpdatedAt,
    executionNumber: execution.executionNumber,
    retryAttempt: execution.retryAttempt ?? 0,
  };
}

export function executionView(store: LocalStore, execution: Execution): object {
  return {
    jobId: execution.jobId,
    status: execution.status,
    forceCanceled: execution.forceCanceled ?? false,
    statusDetails: { detailsMap: execution.statusDetails },
    thingArn: thingArn(store.region, store.accountId, execution.thingName),
    queuedAt: execution.queuedAt,
    startedAt: execution.startedAt,
    lastUpdatedAt: execution.lastUpdatedAt,
    executionNumber: execution.executionNumber,
    versionNumber: execution.versionNumber,
    approximateSecondsBeforeTimedOut: execution.approximateSecondsBeforeTimedOut,
  };
}
