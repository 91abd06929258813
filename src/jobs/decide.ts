// The life of one job execution on this device, as a pure function: decide(state, event, now) returns
// the next state and the side effects to perform, in order. The listener performs them (and feeds the
// results back as events); this file never touches the network, the disk or a clock.
//
//   new ──QUEUED──▶ claiming ──IN_PROGRESS accepted──▶ started ──outcome──▶ finished ──accepted──▶ reported
//                      │                                  │   (outbox)        │
//                      └──terminal──▶ cancelled ◀─────────┘  cancelled        └─service refuses──▶ dropped
//
// Exactly once rests on four rules: `claiming` (with a random claim id) is journaled before IN_PROGRESS
// is requested, the job runs only once the service shows *our* claim id (another agent's claim makes
// the execution `lost`: left alone, never reported), `started` is journaled before runJob is called,
// and an execution the journal shows as started but not running in this process is never run again
// (it is reported FAILED `interrupted`, unless its last step was resumable; a resumable step running
// when the agent stops is suspended, not finished). Every `persist` action comes before the side
// effect that depends on it. The `started` record also names the run's first step when the runner can
// tell it and it is not resumable, so that step costs no durable write of its own (see start()).
import type { StepStart } from '../run/types.js';
import { claimIdOf, claimOwner, claimStatusDetails, newClaimId } from './claim.js';
import {
  close,
  type Decision,
  type ExecutionAction,
  type ExecutionEvent,
  type ExecutionState,
  finish,
  GONE_CODES,
  interruptedOutcome,
  logAction as log,
  same,
} from './execution.js';
import { decideFinished } from './outbox-decisions.js';
import { decideRunning } from './running-decisions.js';
import { TERMINAL_STATUSES } from './payloads.js';

export {
  type Decision,
  type DescribedExecution,
  type ExecutionAction,
  type ExecutionEvent,
  type ExecutionRecord,
  type ExecutionState,
  GONE_CODES,
  interruptedOutcome,
  isFinalStatus,
  type LogLevel,
  newExecutionState,
  type Phase,
  recordFromState,
  stateFromRecord,
} from './execution.js';

export function decide(state: ExecutionState, event: ExecutionEvent, now: string): Decision {
  switch (state.phase) {
    case 'new':
      return decideNew(state, event, now);
    case 'claiming':
      return decideClaiming(state, event, now);
    case 'started':
      return state.running ? decideRunning(state, event, now) : decideInterrupted(state, event, now);
    case 'finished':
      return decideFinished(state, event, now);
    default:
      if (event.type === 'runSettled' && state.running) {
        return same(
          { ...state, running: false },
          log('info', `job ended after the execution was ${state.phase}`),
        );
      }
      return same(state, log('debug', `execution already ${state.phase}; ignoring ${event.type}`));
  }
}

function decideNew(state: ExecutionState, event: ExecutionEvent, now: string): Decision {
  if (event.type !== 'described') return same(state);
  const { status, versionNumber, jobDocument } = event.execution;
  if (status === 'QUEUED') {
    if (!event.canStart) return same(state, log('debug', 'queued execution waits: agent busy or stopping'));
    return {
      state: {
        ...state,
        phase: 'claiming',
        versionNumber,
        claimId: event.claimId ?? newClaimId(),
        document: jobDocument,
        claimedAt: now,
        sending: true,
      },
      actions: [{ type: 'persist' }, { type: 'claim', expectedVersion: versionNumber }],
    };
  }
  if (status === 'IN_PROGRESS') {
    const claimId = claimIdOf(event.execution.statusDetails);
    if (claimId !== undefined) {
      // Our claims are journaled before they are sent: this is another agent's, running it now.
      return same(state, log('debug', 'execution claimed by another agent; leaving it alone', { claimId }));
    }
    // Someone (an earlier agent with a lost journal?) started it; we cannot know what ran. Never re-run.
    const outcome = interruptedOutcome(undefined, 'IN_PROGRESS with no journal record on this device');
    const d = finish({ ...state, versionNumber }, outcome, now);
    d.actions.push(log('warn', 'execution IN_PROGRESS without a journal record: reporting it interrupted'));
    return d;
  }
  if (TERMINAL_STATUSES.has(status))
    return same(state, log('debug', 'execution already terminal', { status }));
  return same(state, log('warn', 'execution has an unknown status; ignoring it', { status }));
}

function decideClaiming(state: ExecutionState, event: ExecutionEvent, now: string): Decision {
  switch (event.type) {
    case 'recovered':
      return same(state, { type: 'describe' });
    case 'described': {
      const { status, versionNumber, jobDocument } = event.execution;
      const next = { ...state, versionNumber, document: jobDocument };
      if (TERMINAL_STATUSES.has(status)) {
        return {
          state: close(next, 'cancelled', now, `service has ${status}`),
          actions: [{ type: 'persist' }],
        };
      }
      if (!event.canStart) return same(next, log('debug', 'claim paused: agent stopping'));
      if (status === 'QUEUED') {
        if (state.sending) return same(next); // a claim is already on its way
        return same(
          { ...next, sending: true },
          { type: 'persist' },
          { type: 'claim', expectedVersion: versionNumber },
        );
      }
      if (status === 'IN_PROGRESS') {
        const owner = claimOwner(state, event.execution.statusDetails);
        if (owner !== 'ours') return lost({ ...next, sending: false }, event.execution.statusDetails, now);
        return start({ ...next, sending: false }, jobDocument, now, undefined, event.firstStep); // our claim landed
      }
      return same(next, log('warn', 'execution has an unknown status; ignoring it', { status }));
    }
    case 'claimAccepted': {
      const versionNumber = event.versionNumber ?? (state.versionNumber ?? 0) + 1;
      const next = { ...state, versionNumber, sending: false };
      const owner = claimOwner(
        state,
        event.claimId === undefined ? undefined : claimStatusDetails(event.claimId),
      );
      if (owner === 'other') return lost(next, claimStatusDetails(event.claimId!), now);
      // The reply did not show the claim id: a describe will.
      if (owner === 'unknown') return same(next, { type: 'describe' });
      if (!event.canStart) return same(next, log('info', 'claimed while stopping: will run after restart'));
      if (next.document === undefined) return same(next, { type: 'describe' });
      return start(next, next.document, now, undefined, event.firstStep);
    }
    case 'claimRejected': {
      const next = { ...state, sending: false };
      if (event.code === 'VersionMismatch' || GONE_CODES.has(event.code)) {
        return same(next, log('info', 'claim rejected; describing again', { code: event.code }), {
          type: 'describe',
        });
      }
      return same(next, log('error', 'claim rejected', { code: event.code }));
    }
    case 'claimFailed':
    case 'describeFailed':
      return same(
        { ...state, sending: false },
        log('warn', `${event.type}: will describe again`, { error: event.error }),
        {
          type: 'retryLater',
          attempt: 1,
        },
      );
    case 'retryDue':
      return same(state, { type: 'describe' });
    case 'describeRejected':
      if (GONE_CODES.has(event.code)) {
        return { state: close(state, 'cancelled', now, event.code), actions: [{ type: 'persist' }] };
      }
      return same(state);
    default:
      return same(state);
  }
}

/** Another agent's claim is the one the service holds: leave the execution alone, report nothing. */
function lost(
  state: ExecutionState,
  statusDetails: Record<string, string> | undefined,
  now: string,
): Decision {
  const theirs = claimIdOf(statusDetails);
  const note =
    theirs === undefined ? 'IN_PROGRESS without our claim id' : `claimed by another agent (${theirs})`;
  return {
    state: close(state, 'lost', now, note),
    actions: [
      { type: 'persist' },
      log('debug', 'execution claimed by another agent; leaving it alone', { claimId: theirs }),
    ],
  };
}

/**
 * Journals `started` and runs the job. On a fresh run whose first step is known and not resumable, the
 * record names that step already (stepAnnounced): its own stepStarted then needs no second durable
 * write. Should the agent die between the two, recovery reports that step interrupted, which is what
 * its own record would have said a moment later; a resumable step is never announced, because the
 * journal naming it makes a restart continue *after* it.
 */
function start(
  state: ExecutionState,
  document: unknown,
  now: string,
  resumeFromStep?: number,
  firstStep?: StepStart,
): Decision {
  const next: ExecutionState = {
    ...state,
    phase: 'started',
    running: true,
    startedAt: state.startedAt ?? now,
  };
  if (resumeFromStep !== undefined) next.resumedFromStep = resumeFromStep;
  else if (firstStep && !firstStep.resumable) {
    next.lastStep = { ...firstStep, startedAt: now };
    next.stepAnnounced = true;
  }
  const run: ExecutionAction = { type: 'run', document };
  if (resumeFromStep !== undefined) run.resumeFromStep = resumeFromStep;
  return { state: next, actions: [{ type: 'persist' }, run] };
}

function decideInterrupted(state: ExecutionState, event: ExecutionEvent, now: string): Decision {
  switch (event.type) {
    case 'retryDue':
      return same(state, { type: 'describe' });
    case 'describeFailed':
      return same(state, { type: 'retryLater', attempt: 1 });
    case 'recovered':
      if (state.lastStep?.resumable) return same(state, { type: 'describe' });
      return finish(state, interruptedOutcome(state.lastStep), now);
    case 'described': {
      const { status, versionNumber, jobDocument } = event.execution;
      const next = { ...state, versionNumber };
      if (TERMINAL_STATUSES.has(status)) {
        return {
          state: close(next, 'cancelled', now, `service has ${status}`),
          actions: [{ type: 'persist' }],
        };
      }
      if (status === 'IN_PROGRESS' && claimOwner(state, event.execution.statusDetails) === 'other') {
        return lost(next, event.execution.statusDetails, now);
      }
      if (status !== 'IN_PROGRESS' || !state.lastStep?.resumable) {
        return finish(next, interruptedOutcome(state.lastStep), now);
      }
      if (!event.canStart) return same(next, log('debug', 'resume paused: agent busy or stopping'));
      return start({ ...next, document: jobDocument }, jobDocument, now, state.lastStep.index + 1);
    }
    case 'describeRejected':
      if (GONE_CODES.has(event.code)) {
        return { state: close(state, 'cancelled', now, event.code), actions: [{ type: 'persist' }] };
      }
      return same(state);
    default:
      return same(state);
  }
}
