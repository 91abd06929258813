// decide() for an execution whose job runs in this process (phase `started`, running): journal each
// step before it starts, finish with the runner's outcome, abort when the service ends the execution,
// and suspend a resumable step when the agent stops. Pure.
import type { JobOutcome, StepStart } from '../run/types.js';
import {
  close,
  type Decision,
  type ExecutionEvent,
  type ExecutionState,
  finish,
  GONE_CODES,
  interruptedOutcome,
  logAction as log,
  same,
} from './execution.js';
import { TERMINAL_STATUSES } from './payloads.js';

function cancel(state: ExecutionState, now: string, why: string): Decision {
  return {
    state: close(state, 'cancelled', now, why),
    actions: [
      { type: 'abort', reason: 'cancelled' },
      { type: 'persist' },
      log('info', 'execution no longer active on the service: job aborted', { why }),
    ],
  };
}

export function decideRunning(state: ExecutionState, event: ExecutionEvent, now: string): Decision {
  switch (event.type) {
    case 'described': {
      const { status, versionNumber } = event.execution;
      if (TERMINAL_STATUSES.has(status)) return cancel(state, now, `service has ${status}`);
      return same({ ...state, versionNumber: Math.max(versionNumber, state.versionNumber ?? 0) });
    }
    case 'describeRejected':
      return GONE_CODES.has(event.code) ? cancel(state, now, event.code) : same(state);
    case 'stepStarted': {
      const announced = state.stepAnnounced ? state.lastStep : undefined;
      if (announced && sameStep(announced, event.step)) return same({ ...state, stepAnnounced: false });
      return same(
        { ...state, stepAnnounced: false, lastStep: { ...event.step, startedAt: now } },
        { type: 'persist' },
      );
    }
    case 'stopping':
      return state.lastStep?.resumable && !state.suspending ? suspend(state) : same(state);
    case 'runSettled': {
      const ended = withoutAnnouncedStep({ ...state, running: false });
      if (state.suspending && event.outcome?.status !== 'SUCCEEDED') {
        // The journal keeps the resumable step as started: the next start continues after it.
        return same(
          { ...ended, suspending: false },
          log('info', 'job suspended during a resumable step; it continues after the restart', {
            step: state.lastStep?.name,
          }),
        );
      }
      if (event.outcome) return finish(ended, event.outcome, now);
      const outcome: JobOutcome = {
        status: 'FAILED',
        statusDetails: { reason: 'runner-error', message: event.error ?? 'unknown error' },
      };
      return finish(ended, outcome, now);
    }
    case 'stopDeadline': {
      if (state.suspending) return same(state);
      if (state.lastStep?.resumable) return suspend(state); // started while stopping
      const stopped = withoutAnnouncedStep(state);
      const d = finish(stopped, interruptedOutcome(stopped.lastStep, 'agent stopped'), now);
      d.actions.unshift({ type: 'abort', reason: 'stopping' });
      return d;
    }
    default:
      return same(state);
  }
}

const sameStep = (a: StepStart, b: StepStart) =>
  a.index === b.index && a.name === b.name && a.resumable === b.resumable;

/** The run ended before the step announced with `started` began: the record no longer names it. */
function withoutAnnouncedStep(state: ExecutionState): ExecutionState {
  if (!state.stepAnnounced) return state;
  const { lastStep: _l, stepAnnounced: _a, ...rest } = state;
  return rest;
}

/** Stopping during a resumable step (a reboot under way): abort it, keep the journal as it is. */
function suspend(state: ExecutionState): Decision {
  return same(
    { ...state, suspending: true },
    { type: 'abort', reason: 'stopping' },
    log('info', 'stopping during a resumable step: it is not finished and resumes after the restart', {
      step: state.lastStep?.name,
    }),
  );
}
