// The control-plane job operations of the local store (CreateJob, AssociateTargetsWithJob, CancelJob,
// DeleteJob, CancelJobExecution and the membership side effects), as functions over a JobBook. They
// throw ServiceError with AWS's exception names; the LocalStore announces the changes afterwards.

import { jobArn } from './arn.js';
import { isPending, isTerminal } from './execution-rules.js';
import type { JobBook, JobState } from './job-book.js';
import type {
  AbortCriterion,
  JobRecord,
  RetryCriterion,
  TargetAssociation,
  TargetSelection,
} from './job-model.js';
import { ServiceError } from './store-errors.js';

export interface CreateJobInput {
  jobId: string;
  document: string;
  targets: string[];
  targetSelection?: TargetSelection;
  namespaceId?: string;
  description?: string;
  passthrough?: Record<string, unknown>;
  timeoutConfig?: { inProgressTimeoutInMinutes?: number };
  retryConfig?: RetryCriterion[];
  abortConfig?: AbortCriterion[];
}

export function createJob(book: JobBook, input: CreateJobInput): JobRecord {
  if (book.jobs.has(input.jobId)) {
    throw new ServiceError('ResourceAlreadyExistsException', `Job ${input.jobId} already exists.`);
  }
  const targets = book.checkTargets(input.targets, []);
  const now = book.seconds();
  const record: JobRecord = {
    jobId: input.jobId,
    jobArn: jobArn(book.region, book.accountId, input.jobId),
    document: input.document,
    targets,
    targetSelection: input.targetSelection ?? 'SNAPSHOT',
    status: 'IN_PROGRESS',
    forceCanceled: false,
    createdAt: now,
    lastUpdatedAt: now,
    passthrough: { ...(input.passthrough ?? {}) },
    associations: [],
  };
  if (input.description !== undefined) record.description = input.description;
  if (input.namespaceId !== undefined) record.namespaceId = input.namespaceId;
  if (input.timeoutConfig !== undefined) record.timeoutConfig = { ...input.timeoutConfig };
  if (input.retryConfig !== undefined) record.retryConfig = input.retryConfig.map((c) => ({ ...c }));
  if (input.abortConfig !== undefined) record.abortConfig = input.abortConfig.map((c) => ({ ...c }));
  const state: JobState = { record, executions: [], nextExecutionNumber: 1 };
  book.jobs.set(record.jobId, state);
  for (const target of targets) book.expandTarget(state, target);
  // A snapshot job that reaches no thing has nothing to wait for.
  book.completeIfDone(state);
  return record;
}

/** A thing joined a group: every IN_PROGRESS continuous job now reaching it queues an execution. */
export function thingJoined(book: JobBook, thingName: string): void {
  for (const state of book.jobs.values()) {
    const job = state.record;
    if (job.targetSelection !== 'CONTINUOUS' || job.status !== 'IN_PROGRESS') continue;
    if (book.reaches(job, thingName)) book.queueExecution(state, thingName);
  }
}

/**
 * A thing left a group: for continuous jobs that no longer reach it, a QUEUED execution becomes
 * REMOVED (the Jobs docs: things removed from a continuous job's target group are no longer
 * scheduled); an IN_PROGRESS one is left to the device to finish. Snapshot jobs keep theirs.
 */
export function thingLeft(book: JobBook, thingName: string): void {
  for (const state of book.jobs.values()) {
    if (state.record.targetSelection !== 'CONTINUOUS' || book.reaches(state.record, thingName)) continue;
    const latest = book.latestExecution(state, thingName);
    if (latest?.status === 'QUEUED') book.setStatus(state, latest, 'REMOVED');
  }
}

/**
 * AssociateTargetsWithJob. The documented preconditions, checked in this order: the job exists
 * (ResourceNotFoundException); the namespace the request names, if any, is the job's
 * (InvalidRequestException; a request without namespaceId is accepted for any job); the job is
 * CONTINUOUS and IN_PROGRESS (InvalidRequestException); every target exists
 * (ResourceNotFoundException); the job ends up with at most 100 targets (LimitExceededException).
 * A target the job already has is accepted again without duplicating it or its executions: AWS
 * documents no error for it, and re-running an enrollment must be harmless.
 */
export function associateTargetsWithJob(
  book: JobBook,
  jobId: string,
  targets: string[],
  options: { comment?: string; namespaceId?: string },
): JobRecord {
  const state = book.job(jobId);
  const job = state.record;
  if (options.namespaceId !== undefined && options.namespaceId !== job.namespaceId) {
    const actual = job.namespaceId === undefined ? 'not in a namespace' : `in namespace ${job.namespaceId}`;
    throw new ServiceError(
      'InvalidRequestException',
      `Job ${jobId} is ${actual}, not in namespace ${options.namespaceId}.`,
    );
  }
  if (job.targetSelection !== 'CONTINUOUS') {
    throw new ServiceError(
      'InvalidRequestException',
      `Job ${jobId} has targetSelection ${job.targetSelection}; targets can only be associated with a CONTINUOUS job.`,
    );
  }
  if (job.status !== 'IN_PROGRESS') {
    throw new ServiceError(
      'InvalidRequestException',
      `Job ${jobId} is ${job.status}; targets can only be associated with an IN_PROGRESS job.`,
    );
  }
  const added = book.checkTargets(targets, job.targets);
  const now = book.seconds();
  job.targets.push(...added);
  job.lastUpdatedAt = now;
  const association: TargetAssociation = { targets: [...targets], at: now };
  if (options.comment !== undefined) association.comment = options.comment;
  if (options.namespaceId !== undefined) association.namespaceId = options.namespaceId;
  job.associations.push(association);
  for (const target of added) book.expandTarget(state, target);
  return job;
}

/**
 * CancelJob: QUEUED executions are cancelled; IN_PROGRESS ones only with `force`. A COMPLETED job
 * cannot be cancelled; cancelling a CANCELED job again is allowed so `force` can follow a plain cancel.
 */
export function cancelJob(
  book: JobBook,
  jobId: string,
  options: { force?: boolean; comment?: string; reasonCode?: string },
): JobRecord {
  const state = book.job(jobId);
  const job = state.record;
  if (job.status === 'COMPLETED') {
    throw new ServiceError('InvalidRequestException', `Job ${jobId} is COMPLETED and cannot be canceled.`);
  }
  const now = book.seconds();
  job.status = 'CANCELED';
  job.lastUpdatedAt = now;
  job.completedAt = now;
  if (options.force) job.forceCanceled = true;
  if (options.comment !== undefined) job.comment = options.comment;
  if (options.reasonCode !== undefined) job.reasonCode = options.reasonCode;
  for (const execution of state.executions) {
    if (execution.status === 'QUEUED') book.setStatus(state, execution, 'CANCELED');
    else if (execution.status === 'IN_PROGRESS' && options.force) {
      execution.forceCanceled = true;
      book.setStatus(state, execution, 'CANCELED');
    }
  }
  return job;
}

/**
 * DeleteJob: an IN_PROGRESS job needs `force` (InvalidStateTransitionException otherwise, as the SDK
 * models it). The namespace the request names, if any, must be the job's. The job is gone at once
 * (AWS passes through DELETION_IN_PROGRESS); its pending executions leave their things' queues.
 */
export function deleteJob(
  book: JobBook,
  jobId: string,
  options: { force?: boolean; namespaceId?: string },
): void {
  const state = book.job(jobId);
  const job = state.record;
  if (options.namespaceId !== undefined && options.namespaceId !== job.namespaceId) {
    throw new ServiceError(
      'InvalidRequestException',
      `Job ${jobId} is not in namespace ${options.namespaceId}.`,
    );
  }
  if (job.status === 'IN_PROGRESS' && !options.force) {
    throw new ServiceError(
      'InvalidStateTransitionException',
      `Job ${jobId} is IN_PROGRESS; it can only be deleted with force.`,
    );
  }
  book.jobs.delete(jobId);
  for (const execution of state.executions) {
    if (isPending(execution.status)) book.markChanged(job, execution.thingName);
  }
}

/**
 * CancelJobExecution: QUEUED -> CANCELED; IN_PROGRESS only with `force`; a terminal execution cannot
 * be cancelled (InvalidStateTransitionException, as the SDK models it); a stale expectedVersion is a
 * VersionConflictException.
 */
export function cancelJobExecution(
  book: JobBook,
  thingName: string,
  jobId: string,
  options: { force?: boolean; expectedVersion?: number; statusDetails?: Record<string, string> },
): void {
  const state = book.job(jobId);
  const execution = book.latestExecution(state, thingName);
  if (!execution) {
    throw new ServiceError(
      'ResourceNotFoundException',
      `No job execution of job ${jobId} for thing ${thingName}.`,
    );
  }
  if (options.expectedVersion !== undefined && options.expectedVersion !== execution.versionNumber) {
    throw new ServiceError(
      'VersionConflictException',
      `Expected version ${options.expectedVersion} but the job execution is at version ${execution.versionNumber}.`,
    );
  }
  if (isTerminal(execution.status)) {
    throw new ServiceError(
      'InvalidStateTransitionException',
      `The job execution is ${execution.status} (terminal) and cannot be canceled.`,
    );
  }
  if (execution.status === 'IN_PROGRESS' && !options.force) {
    throw new ServiceError(
      'InvalidStateTransitionException',
      'The job execution is IN_PROGRESS; it can only be canceled with force.',
    );
  }
  if (options.statusDetails !== undefined) execution.statusDetails = { ...options.statusDetails };
  if (execution.status === 'IN_PROGRESS') execution.forceCanceled = true;
  book.setStatus(state, execution, 'CANCELED');
}
