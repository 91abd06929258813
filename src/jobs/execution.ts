// The state of one job execution on this device, what the journal keeps of it, and the events and
// actions decide() works with. Types and small pure helpers only.
import type { FinalStatus, JobOutcome, StepStart } from '../run/types.js';
import { sanitizeStatusDetails } from './sanitize.js';

export type Phase =
  | 'new'
  | 'claiming'
  | 'started'
  | 'finished'
  | 'reported'
  | 'dropped'
  | 'cancelled'
  /** Another agent's claim landed: this agent leaves the execution alone and never reports it. */
  | 'lost';

/** What the journal keeps for one execution (times are ISO-8601 strings). */
export interface ExecutionRecord {
  executionNumber: number;
  phase: Exclude<Phase, 'new'>;
  /** The versionNumber the next update must carry as expectedVersion. */
  versionNumber?: number;
  /** The random id this agent's IN_PROGRESS claim carries in statusDetails (see claim.ts). */
  claimId?: string;
  claimedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  /** When it was reported, dropped or cancelled. */
  closedAt?: string;
  lastStep?: StepStart & { startedAt: string };
  resumedFromStep?: number;
  /** The final status (already sanitized) once finished. */
  outcome?: JobOutcome;
  /** Status sends that failed (timeout, offline, throttled) since it finished. */
  sendAttempts?: number;
  /** Why it was dropped or cancelled; what happened to the details. */
  note?: string;
  /** statusDetails were cut to the reason after the service refused them (InvalidRequest). */
  detailsReduced?: boolean;
}

export interface ExecutionState extends Omit<ExecutionRecord, 'phase'> {
  phase: Phase;
  /** runJob is running in this process (false after a restart: the journal alone says `started`). */
  running: boolean;
  /** An update (the IN_PROGRESS claim or the final status) is in flight. */
  sending: boolean;
  /** The job document from the latest describe (not journaled: it is fetched again when needed). */
  document?: unknown;
  /** Its resumable step was aborted because the agent stops: the job resumes after the restart. */
  suspending?: boolean;
  /**
   * lastStep is the step the run was expected to start with, journaled with `started` (see decide's
   * start()); cleared once the runner reports that step started. A run that ends before it never
   * started that step, so its record is then dropped.
   */
  stepAnnounced?: boolean;
}

export interface DescribedExecution {
  status: string;
  versionNumber: number;
  statusDetails?: Record<string, string>;
  jobDocument?: unknown;
}

export type ExecutionEvent =
  /** Loaded from the journal when the listener starts. */
  | { type: 'recovered' }
  /** `canStart`: not stopping, and no other execution of this job is claiming or running here. */
  /** `claimId`: the id a claim made now would carry (the queue draws one; see claim.ts). */
  /** `firstStep`: the step a fresh run of this execution's document starts with (RunJob.firstStep). */
  | {
      type: 'described';
      execution: DescribedExecution;
      canStart: boolean;
      claimId?: string;
      firstStep?: StepStart;
    }
  | { type: 'describeRejected'; code: string }
  /** A describe of this execution got no answer (timeout, offline, still throttled). */
  | { type: 'describeFailed'; error: string }
  /** `claimId`: the claim id the reply's executionState shows (undefined when it shows none). */
  | {
      type: 'claimAccepted';
      versionNumber?: number;
      claimId?: string;
      canStart: boolean;
      firstStep?: StepStart;
    }
  | { type: 'claimRejected'; code: string }
  | { type: 'claimFailed'; error: string }
  | { type: 'stepStarted'; step: StepStart }
  | { type: 'runSettled'; outcome?: JobOutcome; error?: string }
  | { type: 'statusAccepted' }
  | { type: 'statusRejected'; code: string; executionState?: { status: string; versionNumber: number } }
  | { type: 'statusFailed'; error: string }
  /** A retry timer fired, or the connection came back. */
  | { type: 'retryDue' }
  /** The agent starts stopping (SIGTERM, a restart): a resumable step is suspended at once. */
  | { type: 'stopping' }
  /** Stopping, and the grace period for the running job is over. */
  | { type: 'stopDeadline' };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type ExecutionAction =
  | { type: 'persist' }
  | { type: 'claim'; expectedVersion: number }
  | { type: 'run'; document: unknown; resumeFromStep?: number }
  | { type: 'abort'; reason: 'cancelled' | 'stopping' }
  /** Send state.outcome with expectedVersion = state.versionNumber. */
  | { type: 'sendStatus' }
  | { type: 'describe' }
  /** Emit retryDue after the backoff delay for this attempt. */
  | { type: 'retryLater'; attempt: number }
  | { type: 'log'; level: LogLevel; msg: string; fields?: Record<string, unknown> };

export interface Decision {
  state: ExecutionState;
  actions: ExecutionAction[];
}

/** Rejections meaning the execution can no longer be updated by the device. */
export const GONE_CODES = new Set(['TerminalStateReached', 'InvalidStateTransition', 'ResourceNotFound']);

export function newExecutionState(executionNumber: number): ExecutionState {
  return { executionNumber, phase: 'new', running: false, sending: false };
}

export function stateFromRecord(record: ExecutionRecord): ExecutionState {
  return { ...record, running: false, sending: false };
}

export function recordFromState(state: ExecutionState): ExecutionRecord | undefined {
  if (state.phase === 'new') return undefined;
  const { running: _r, sending: _s, document: _d, suspending: _su, stepAnnounced: _a, ...record } = state;
  return { ...record, phase: state.phase };
}

/** FAILED `interrupted`, naming the step that was running when the agent stopped or died. */
export function interruptedOutcome(lastStep: StepStart | undefined, detail?: string): JobOutcome {
  const statusDetails: Record<string, string> = { reason: 'interrupted' };
  if (lastStep) {
    statusDetails.step = lastStep.name;
    statusDetails.stepIndex = String(lastStep.index);
  }
  if (detail) statusDetails.detail = detail;
  return { status: 'FAILED', statusDetails: sanitizeStatusDetails(statusDetails) };
}

export const logAction = (
  level: LogLevel,
  msg: string,
  fields?: Record<string, unknown>,
): ExecutionAction => ({
  type: 'log',
  level,
  msg,
  fields,
});

export function finish(state: ExecutionState, outcome: JobOutcome, now: string): Decision {
  const clean: JobOutcome = {
    status: outcome.status,
    statusDetails: sanitizeStatusDetails(outcome.statusDetails),
  };
  return {
    state: { ...state, phase: 'finished', outcome: clean, finishedAt: now, sendAttempts: 0, sending: true },
    actions: [{ type: 'persist' }, { type: 'sendStatus' }],
  };
}

export function close(
  state: ExecutionState,
  phase: 'reported' | 'dropped' | 'cancelled' | 'lost',
  now: string,
  note?: string,
) {
  const next: ExecutionState = { ...state, phase, closedAt: now, sending: false };
  if (note !== undefined) next.note = note;
  return next;
}

/** A terminal status seen for an execution whose final status we are still sending. */
export function settleOutbox(state: ExecutionState, status: string, now: string, how: string): Decision {
  if (status === state.outcome?.status) {
    return {
      state: close(state, 'reported', now, state.note),
      actions: [
        { type: 'persist' },
        logAction('info', 'final status recorded by the service', { status, how }),
      ],
    };
  }
  const note = `service has ${status} (${how}); our ${state.outcome?.status} was not applied`;
  return {
    state: close(state, 'dropped', now, note),
    actions: [
      { type: 'persist' },
      logAction('warn', 'dropping final status: execution already terminal', { status, how }),
    ],
  };
}

export const same = (state: ExecutionState, ...actions: ExecutionAction[]): Decision => ({ state, actions });

export function isFinalStatus(status: string): status is FinalStatus {
  return status === 'SUCCEEDED' || status === 'FAILED' || status === 'REJECTED';
}
