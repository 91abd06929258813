// The jobs and executions of the local store, with the primitives every operation is built from:
// finding executions, queueing one, changing a status (with versionNumber, times and snapshot job
// completion), resolving targets to things, and collecting which (thing, job) pairs changed so the
// store can announce them once the operation is complete.

import { parseIotArn } from './arn.js';
import { type ExecutionStatus, isTerminal } from './execution-rules.js';
import { abortCriterionMet, clearTimers, retryDecision, startInProgressTimer } from './job-configs.js';
import { type Execution, type ExecutionRecord, type JobRecord, publicExecution } from './job-model.js';
import { ServiceError } from './store-errors.js';
import type { ThingRegistry } from './thing-registry.js';

/** AWS's limit on the targets of a (continuous) job. */
export const MAX_JOB_TARGETS = 100;

export interface ExecutionChangedEvent {
  thingName: string;
  jobId: string;
  namespaceId?: string;
}

export interface JobState {
  record: JobRecord;
  /** Every execution of the job, in creation order (a thing may have several, e.g. after REMOVED). */
  executions: ExecutionRecord[];
  nextExecutionNumber: number;
}

export class JobBook {
  readonly jobs = new Map<string, JobState>();
  private seq = 0;
  private changed = new Map<string, ExecutionChangedEvent>();

  constructor(
    readonly registry: ThingRegistry,
    readonly region: string,
    readonly accountId: string,
    /** Epoch milliseconds. */
    readonly nowMs: () => number,
    /** How long one job-timer minute lasts (60000 = real minutes; tests compress it). */
    readonly minuteMs = 60_000,
  ) {}

  /** Integer epoch seconds, as every stored time is. */
  seconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** A public copy, with approximateSecondsBeforeTimedOut as of now. */
  view(record: ExecutionRecord): Execution {
    return publicExecution(record, { nowMs: this.nowMs(), minuteMs: this.minuteMs });
  }

  /** The job, or ResourceNotFoundException (control plane). */
  job(jobId: string): JobState {
    const state = this.jobs.get(jobId);
    if (!state) throw new ServiceError('ResourceNotFoundException', `Job ${jobId} cannot be found.`);
    return state;
  }

  findExecution(state: JobState, thingName: string, executionNumber?: number): ExecutionRecord | undefined {
    if (executionNumber === undefined) return this.latestExecution(state, thingName);
    return state.executions.find((e) => e.thingName === thingName && e.executionNumber === executionNumber);
  }

  latestExecution(state: JobState, thingName: string): ExecutionRecord | undefined {
    let latest: ExecutionRecord | undefined;
    for (const execution of state.executions) {
      if (execution.thingName === thingName && (!latest || execution.seq > latest.seq)) latest = execution;
    }
    return latest;
  }

  latestPerThing(state: JobState): ExecutionRecord[] {
    const latest = new Map<string, ExecutionRecord>();
    for (const execution of state.executions) latest.set(execution.thingName, execution);
    return [...latest.values()];
  }

  /**
   * Validates target ARNs (malformed or foreign -> InvalidRequestException, unknown ->
   * ResourceNotFoundException) and returns those not in `existing`, deduplicated; more than 100
   * targets in all -> LimitExceededException.
   */
  checkTargets(targets: string[], existing: string[]): string[] {
    const added: string[] = [];
    for (const target of targets) {
      const arn = parseIotArn(target);
      if (!arn || arn.region !== this.region || arn.accountId !== this.accountId) {
        throw new ServiceError(
          'InvalidRequestException',
          `Target ${target} is not a thing or thing group ARN of account ${this.accountId} in ${this.region}.`,
        );
      }
      if (arn.type === 'thinggroup' && !this.registry.hasGroup(arn.name)) {
        throw new ServiceError('ResourceNotFoundException', `Thing group ${arn.name} cannot be found.`);
      }
      if (arn.type === 'thing' && !this.registry.hasThing(arn.name)) {
        throw new ServiceError('ResourceNotFoundException', `Thing ${arn.name} cannot be found.`);
      }
      if (arn.type !== 'thing' && arn.type !== 'thinggroup') {
        throw new ServiceError(
          'InvalidRequestException',
          `Target ${target} is not a thing or thing group ARN.`,
        );
      }
      if (!existing.includes(target) && !added.includes(target)) added.push(target);
    }
    const total = existing.length + added.length;
    if (total > MAX_JOB_TARGETS) {
      throw new ServiceError(
        'LimitExceededException',
        `A job can have at most ${MAX_JOB_TARGETS} targets; this request would make it ${total}.`,
      );
    }
    return added;
  }

  /** Whether any target of the job (a thing, or a group directly or through a child) reaches the thing. */
  reaches(job: JobRecord, thingName: string): boolean {
    return job.targets.some((target) => this.thingsOfTarget(target).includes(thingName));
  }

  /** Queues an execution for every thing the target reaches (see queueExecution). */
  expandTarget(state: JobState, target: string): void {
    for (const thingName of this.thingsOfTarget(target)) this.queueExecution(state, thingName);
  }

  /**
   * Queues an execution unless the thing already has one. A thing whose last execution was REMOVED
   * (it left a continuous job's group before running it) gets a new one when it comes back; a thing
   * that already ran the job does not run it again.
   */
  queueExecution(state: JobState, thingName: string, again = false): void {
    const latest = this.latestExecution(state, thingName);
    if (latest && latest.status !== 'REMOVED' && !again) return;
    this.pushQueued(state, thingName, { retryAttempt: 0 });
  }

  /**
   * A retry (jobExecutionsRetryConfig): a new QUEUED execution of the job for the thing, with the next
   * execution number, so the device sees it as new work (notify and notify-next announce it).
   */
  private queueRetry(
    state: JobState,
    thingName: string,
    retry: NonNullable<ReturnType<typeof retryDecision>>,
  ) {
    this.pushQueued(state, thingName, { retryAttempt: retry.retryAttempt, retryOf: retry.retryOf });
  }

  /** A new QUEUED execution with the job's next execution number (a first run, or a retry). */
  private pushQueued(
    state: JobState,
    thingName: string,
    retry: Pick<ExecutionRecord, 'retryAttempt' | 'retryOf'>,
  ): void {
    const now = this.seconds();
    this.seq += 1;
    state.executions.push({
      jobId: state.record.jobId,
      thingName,
      executionNumber: state.nextExecutionNumber,
      versionNumber: 1,
      status: 'QUEUED',
      statusDetails: {},
      queuedAt: now,
      lastUpdatedAt: now,
      ...retry,
      seq: this.seq,
    });
    state.nextExecutionNumber += 1;
    this.markChanged(state.record, thingName);
  }

  /**
   * Every status change goes through here: versionNumber + 1, times, the in-progress timer, and on a
   * terminal status the retry and abort rules (job-configs.ts) before snapshot job completion, so a
   * job with a retry queued is not COMPLETED.
   */
  setStatus(state: JobState, execution: ExecutionRecord, status: ExecutionStatus): void {
    const now = this.seconds();
    if (status === 'IN_PROGRESS' && execution.startedAt === undefined) execution.startedAt = now;
    if (status === 'IN_PROGRESS') startInProgressTimer(state.record, execution, this.nowMs(), this.minuteMs);
    execution.status = status;
    execution.versionNumber += 1;
    execution.lastUpdatedAt = now;
    this.markChanged(state.record, execution.thingName);
    if (isTerminal(status)) {
      clearTimers(execution);
      const ofThing = state.executions.filter((e) => e.thingName === execution.thingName);
      const retry = retryDecision(state.record, ofThing, status);
      if (retry) this.queueRetry(state, execution.thingName, retry);
      else this.abortIfMet(state);
    }
    this.completeIfDone(state);
  }

  /** abortConfig: once a criterion is met the job is CANCELED and its QUEUED executions with it. */
  private abortIfMet(state: JobState): void {
    const criterion = abortCriterionMet(state.record, this.latestPerThing(state));
    if (!criterion) return;
    const job = state.record;
    const now = this.seconds();
    job.status = 'CANCELED';
    job.lastUpdatedAt = now;
    job.completedAt = now;
    job.comment = `Aborted by abortConfig: ${criterion.failureType} reached ${criterion.thresholdPercentage}% of at least ${criterion.minNumberOfExecutedThings} executed things.`;
    for (const queued of state.executions.filter((e) => e.status === 'QUEUED')) {
      this.setStatus(state, queued, 'CANCELED');
    }
  }

  /** A SNAPSHOT job is COMPLETED once every thing's execution is terminal; CONTINUOUS jobs never are. */
  completeIfDone(state: JobState): void {
    const job = state.record;
    if (job.targetSelection !== 'SNAPSHOT' || job.status !== 'IN_PROGRESS') return;
    if (!this.latestPerThing(state).every((execution) => isTerminal(execution.status))) return;
    const now = this.seconds();
    job.status = 'COMPLETED';
    job.completedAt = now;
    job.lastUpdatedAt = now;
  }

  markChanged(job: JobRecord, thingName: string): void {
    const event: ExecutionChangedEvent = { thingName, jobId: job.jobId };
    if (job.namespaceId !== undefined) event.namespaceId = job.namespaceId;
    this.changed.set(`${thingName}\u0000${job.jobId}`, event);
  }

  /** The changes collected since the last call, in the order they were first made. */
  takeChanges(): ExecutionChangedEvent[] {
    const events = [...this.changed.values()];
    this.changed = new Map();
    return events;
  }

  private thingsOfTarget(target: string): string[] {
    const arn = parseIotArn(target);
    if (arn?.type === 'thing') return this.registry.hasThing(arn.name) ? [arn.name] : [];
    if (arn?.type === 'thinggroup' && this.registry.hasGroup(arn.name)) {
      return this.registry.thingsReachedBy(arn.name);
    }
    return [];
  }
}
