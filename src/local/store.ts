// The in-memory model of the local AWS IoT stack: things, thing groups, jobs and their executions.
// No I/O and an injectable clock, so every rule is testable directly. The control plane (REST-JSON)
// and the data plane (Jobs over MQTT) are both thin adapters over this class. After every operation
// that changed a thing's pending executions or an execution's status, it emits 'execution-changed'
// once per (thing, job), so the data plane can notify the device; listeners run after the operation
// has finished and see a consistent model.
//
// Control-plane methods throw ServiceError (AWS exception names); data-plane methods throw
// DataPlaneError (Jobs MQTT error codes). The rules live in job-control.ts, job-device.ts,
// job-book.ts and execution-rules.ts; this class only composes them.

import { EventEmitter } from 'node:events';
import { type ExecutionStatus, isTerminal } from './execution-rules.js';
import { ExecutionTimers } from './execution-timers.js';
import { type ExecutionChangedEvent, JobBook } from './job-book.js';
import * as control from './job-control.js';
import * as device from './job-device.js';
import {
  compareByQueue,
  type Execution,
  type ExecutionRecord,
  type JobProcessDetails,
  type JobRecord,
  type JobStatus,
  processDetails,
  type TargetSelection,
} from './job-model.js';
import { DataPlaneError, ServiceError } from './store-errors.js';
import {
  type CreateThingGroupInput,
  type CreateThingInput,
  type ThingGroupRecord,
  type ThingRecord,
  ThingRegistry,
} from './thing-registry.js';

export type { ExecutionStatus } from './execution-rules.js';
export { type ExecutionChangedEvent, MAX_JOB_TARGETS } from './job-book.js';
export type { CreateJobInput } from './job-control.js';
export type { StartNextRequest, UpdateExecutionRequest } from './job-device.js';
export type {
  Execution,
  JobProcessDetails,
  JobRecord,
  JobStatus,
  TargetAssociation,
  TargetSelection,
} from './job-model.js';
export type { DataPlaneErrorCode, ExecutionState, ServiceErrorType } from './store-errors.js';
export { DataPlaneError, ServiceError } from './store-errors.js';
export type {
  CreateThingGroupInput,
  CreateThingInput,
  ThingGroupRecord,
  ThingRecord,
} from './thing-registry.js';

export interface LocalStoreOptions {
  region: string;
  accountId: string;
  /** Milliseconds since the epoch; defaults to Date.now. Stored times are integer epoch seconds. */
  now?: () => number;
  /**
   * How many milliseconds one minute of every job timer lasts (inProgressTimeoutInMinutes,
   * stepTimeoutInMinutes); default 60000. Tests and demos compress time with a small value.
   */
  minuteMs?: number;
}

/** The store's one event: a thing's pending executions or one execution's status changed. */
interface LocalStoreEvents {
  'execution-changed': [event: ExecutionChangedEvent];
}

export class LocalStore extends EventEmitter<LocalStoreEvents> {
  readonly region: string;
  readonly accountId: string;
  private readonly registry: ThingRegistry;
  private readonly book: JobBook;
  private readonly timers: ExecutionTimers;

  constructor(options: LocalStoreOptions) {
    super();
    this.region = options.region;
    this.accountId = options.accountId;
    const now = options.now ?? Date.now;
    const minuteMs = options.minuteMs ?? 60_000;
    if (!Number.isInteger(minuteMs) || minuteMs < 1) {
      throw new RangeError(`minuteMs: expected a whole number of milliseconds >= 1, got ${minuteMs}`);
    }
    this.registry = new ThingRegistry(options.region, options.accountId);
    this.book = new JobBook(this.registry, options.region, options.accountId, now, minuteMs);
    // An expired timer moves the execution to TIMED_OUT (job-book.ts), then announces it.
    this.timers = new ExecutionTimers(this.book, () => this.announce());
  }

  /** How long one job-timer minute lasts here, in milliseconds. */
  get minuteMs(): number {
    return this.book.minuteMs;
  }

  /** Stops every job timer (the stack is closing). */
  close(): void {
    this.timers.clear();
  }

  // ---------------------------------------------------------------- registry (control plane)

  /** CreateThing; an identical repeat returns the same thing, a conflicting one is refused. */
  createThing(input: CreateThingInput): ThingRecord {
    return this.registry.createThing(input, this.book.seconds()).thing;
  }

  describeThing(thingName: string): ThingRecord {
    return this.registry.thing(thingName);
  }

  createThingGroup(input: CreateThingGroupInput): ThingGroupRecord {
    return this.registry.createThingGroup(input, this.book.seconds());
  }

  describeThingGroup(groupName: string): ThingGroupRecord & { rootToParentThingGroups: ThingGroupRecord[] } {
    const group = this.registry.group(groupName);
    const ancestors = this.registry.ancestors(groupName).map((name) => this.registry.group(name));
    return { ...group, rootToParentThingGroups: ancestors };
  }

  /** The group with this name or id, if it exists (no error: used for filters). */
  findThingGroup(by: { name?: string; id?: string }): ThingGroupRecord | undefined {
    return this.registry.findGroup(by);
  }

  thingGroupsForThing(thingName: string): ThingGroupRecord[] {
    this.registry.thing(thingName);
    return this.registry.groupsOf(thingName);
  }

  /** Continuous jobs targeting the group (or a parent group) queue an execution for the thing. */
  addThingToThingGroup(thingName: string, groupName: string): void {
    this.registry.addMember(groupName, thingName);
    control.thingJoined(this.book, thingName);
    this.announce();
  }

  /** Continuous jobs that no longer reach the thing mark its QUEUED execution REMOVED. */
  removeThingFromThingGroup(thingName: string, groupName: string): void {
    this.registry.removeMember(groupName, thingName);
    control.thingLeft(this.book, thingName);
    this.announce();
  }

  /**
   * No AWS API: a test and chaos-suite hook that runs the job on the thing once more (a new
   * execution, QUEUED, with the next executionNumber), as many deployments of one job to one device
   * would. Refused while the thing's latest execution of the job is still QUEUED or IN_PROGRESS.
   * Returns the new executionNumber.
   */
  queueExecutionAgain(jobId: string, thingName: string): number {
    const state = this.book.job(jobId);
    const latest = this.book.latestExecution(state, thingName);
    if (latest && (latest.status === 'QUEUED' || latest.status === 'IN_PROGRESS')) {
      throw new ServiceError(
        'InvalidRequestException',
        `execution ${latest.executionNumber} of ${jobId} for ${thingName} is still ${latest.status}`,
      );
    }
    const executionNumber = state.nextExecutionNumber;
    this.book.queueExecution(state, thingName, true);
    this.announce();
    return executionNumber;
  }

  // ---------------------------------------------------------------- jobs (control plane)

  createJob(input: control.CreateJobInput): JobRecord {
    return this.announce(control.createJob(this.book, input));
  }

  /** The job record (treat as read-only). Throws ResourceNotFoundException. */
  describeJob(jobId: string): JobRecord {
    return this.book.job(jobId).record;
  }

  jobProcessDetails(jobId: string): JobProcessDetails {
    const state = this.book.job(jobId);
    return processDetails(state.record, this.book.latestPerThing(state));
  }

  getJobDocument(jobId: string): string {
    return this.book.job(jobId).record.document;
  }

  /** ListJobs, in creation order. A thing group filter (name or id) keeps the jobs that target the group. */
  listJobs(filter: {
    status?: JobStatus;
    targetSelection?: TargetSelection;
    namespaceId?: string;
    thingGroupName?: string;
    thingGroupId?: string;
  }): JobRecord[] {
    const byGroup = filter.thingGroupName !== undefined || filter.thingGroupId !== undefined;
    const groupArn = byGroup
      ? this.registry.findGroup({ name: filter.thingGroupName, id: filter.thingGroupId })?.thingGroupArn
      : undefined;
    return [...this.book.jobs.values()]
      .map((state) => state.record)
      .filter(
        (job) =>
          (filter.status === undefined || job.status === filter.status) &&
          (filter.targetSelection === undefined || job.targetSelection === filter.targetSelection) &&
          (filter.namespaceId === undefined || job.namespaceId === filter.namespaceId) &&
          (!byGroup || (groupArn !== undefined && job.targets.includes(groupArn))),
      );
  }

  /** AssociateTargetsWithJob (rules and error order: job-control.ts). */
  associateTargetsWithJob(
    jobId: string,
    targets: string[],
    options: { comment?: string; namespaceId?: string } = {},
  ): JobRecord {
    return this.announce(control.associateTargetsWithJob(this.book, jobId, targets, options));
  }

  cancelJob(
    jobId: string,
    options: { force?: boolean; comment?: string; reasonCode?: string } = {},
  ): JobRecord {
    return this.announce(control.cancelJob(this.book, jobId, options));
  }

  deleteJob(jobId: string, options: { force?: boolean; namespaceId?: string } = {}): void {
    this.announce(control.deleteJob(this.book, jobId, options));
  }

  /** ListJobExecutionsForJob: every execution of the job, oldest first. */
  listExecutionsForJob(jobId: string, status?: ExecutionStatus): Execution[] {
    return this.book
      .job(jobId)
      .executions.filter((execution) => status === undefined || execution.status === status)
      .sort(compareByQueue)
      .map((e) => this.book.view(e));
  }

  /** ListJobExecutionsForThing: the thing's executions across jobs, oldest first. */
  listExecutionsForThing(
    thingName: string,
    filter: { status?: ExecutionStatus; namespaceId?: string; jobId?: string } = {},
  ): Execution[] {
    const found: ExecutionRecord[] = [];
    for (const state of this.book.jobs.values()) {
      if (filter.jobId !== undefined && state.record.jobId !== filter.jobId) continue;
      if (filter.namespaceId !== undefined && state.record.namespaceId !== filter.namespaceId) continue;
      for (const execution of state.executions) {
        if (execution.thingName !== thingName) continue;
        if (filter.status === undefined || execution.status === filter.status) found.push(execution);
      }
    }
    return found.sort(compareByQueue).map((e) => this.book.view(e));
  }

  /** DescribeJobExecution (control plane): the latest execution, or the numbered one. */
  describeJobExecution(thingName: string, jobId: string, executionNumber?: number): Execution {
    const execution = this.book.findExecution(this.book.job(jobId), thingName, executionNumber);
    if (!execution) {
      const numbered = executionNumber === undefined ? '' : ` with execution number ${executionNumber}`;
      throw new ServiceError(
        'ResourceNotFoundException',
        `No job execution of job ${jobId} for thing ${thingName}${numbered}.`,
      );
    }
    return this.book.view(execution);
  }

  cancelJobExecution(
    thingName: string,
    jobId: string,
    options: { force?: boolean; expectedVersion?: number; statusDetails?: Record<string, string> } = {},
  ): void {
    this.announce(control.cancelJobExecution(this.book, thingName, jobId, options));
  }

  // ---------------------------------------------------------------- data plane (Jobs over MQTT)

  /** The job document text. Throws DataPlaneError ResourceNotFound. */
  jobDocument(jobId: string): string {
    const state = this.book.jobs.get(jobId);
    if (!state) throw new DataPlaneError('ResourceNotFound', `Job ${jobId} does not exist.`);
    return state.record.document;
  }

  jobNamespace(jobId: string): string | undefined {
    return this.book.jobs.get(jobId)?.record.namespaceId;
  }

  /** Executions of jobs in exactly this namespace (undefined = jobs created without one), oldest first. */
  pendingExecutions(
    thingName: string,
    namespaceId?: string,
  ): { inProgress: Execution[]; queued: Execution[] } {
    return device.pendingExecutions(this.book, thingName, namespaceId);
  }

  /** IN_PROGRESS executions first, then QUEUED ones, each oldest first. */
  nextPendingExecution(thingName: string, namespaceId?: string): Execution | undefined {
    const { inProgress, queued } = this.pendingExecutions(thingName, namespaceId);
    return inProgress[0] ?? queued[0];
  }

  /**
   * DescribeJobExecution (data plane). An execution in a terminal status answers TerminalStateReached,
   * as the Jobs MQTT API documents for describing a job in a terminal state; the control plane's
   * describeJobExecution still returns it.
   */
  describeExecution(
    thingName: string,
    jobId: string,
    options: { namespaceId?: string; executionNumber?: number } = {},
  ): Execution {
    const { execution } = device.deviceExecution(this.book, thingName, jobId, options);
    if (isTerminal(execution.status)) {
      throw new DataPlaneError(
        'TerminalStateReached',
        `The job execution of job ${jobId} for thing ${thingName} is in terminal state ${execution.status}.`,
      );
    }
    return this.book.view(execution);
  }

  /** UpdateJobExecution (data plane; rules and error order: job-device.ts). */
  updateExecution(thingName: string, jobId: string, request: device.UpdateExecutionRequest): Execution {
    return this.announce(device.updateExecution(this.book, thingName, jobId, request));
  }

  /** StartNextPendingJobExecution: starts the next QUEUED one, or returns the IN_PROGRESS one unchanged. */
  startNextPendingExecution(
    thingName: string,
    namespaceId?: string,
    request: device.StartNextRequest = {},
  ): Execution | undefined {
    return this.announce(device.startNextPendingExecution(this.book, thingName, namespaceId, request));
  }

  /** Re-arms the timeout timers of what changed, emits the changes, then passes the result through. */
  private announce<T = void>(result?: T): T {
    const events = this.book.takeChanges();
    for (const event of events) this.timers.sync(event.jobId, event.thingName);
    for (const event of events) this.emit('execution-changed', event);
    return result as T;
  }
}
