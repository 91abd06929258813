// decide() for an execution whose final status is in the outbox (phase `finished`): send it, back off
// while it cannot be delivered, and settle it once the service has answered for good. Pure.
import type { JobOutcome } from '../run/types.js';
import {
  close,
  type Decision,
  type ExecutionEvent,
  type ExecutionState,
  GONE_CODES,
  logAction as log,
  same,
  settleOutbox,
} from './execution.js';
import { TERMINAL_STATUSES } from './payloads.js';

export function decideFinished(state: ExecutionState, event: ExecutionEvent, now: string): Decision {
  const send = (s: ExecutionState): Decision =>
    s.sending ? same(s) : same({ ...s, sending: true }, { type: 'sendStatus' });
  switch (event.type) {
    case 'recovered':
    case 'retryDue':
      return send(state);
    case 'runSettled':
      return same({ ...state, running: false }, log('debug', 'job ended after its status was decided'));
    case 'statusAccepted':
      return {
        state: close(state, 'reported', now, state.note),
        actions: [
          { type: 'persist' },
          log('info', 'final status accepted', { status: state.outcome?.status }),
        ],
      };
    case 'describeFailed':
      return same(state, { type: 'retryLater', attempt: (state.sendAttempts ?? 0) + 1 });
    case 'statusFailed': {
      const attempt = (state.sendAttempts ?? 0) + 1;
      return same(
        { ...state, sending: false, sendAttempts: attempt },
        log('warn', 'final status not delivered; will retry', { attempt, error: event.error }),
        { type: 'retryLater', attempt },
      );
    }
    case 'statusRejected':
      return statusRejected({ ...state, sending: false }, event, now);
    case 'described': {
      const { status, versionNumber } = event.execution;
      if (TERMINAL_STATUSES.has(status)) return settleOutbox(state, status, now, 'describe');
      if (status === 'IN_PROGRESS') {
        // Still not applied (e.g. after VersionMismatch): send again with the version the service has.
        const d = send({ ...state, versionNumber });
        return { state: d.state, actions: [{ type: 'persist' }, ...d.actions] };
      }
      return same(state);
    }
    case 'describeRejected':
      if (event.code === 'TerminalStateReached' || event.code === 'ResourceNotFound') {
        const note = `${event.code} on describe; our ${state.outcome?.status} may not have been applied`;
        return {
          state: close(state, 'dropped', now, note),
          actions: [{ type: 'persist' }, log('warn', 'dropping final status', { code: event.code })],
        };
      }
      return same(state);
    default:
      return same(state);
  }
}

function statusRejected(
  state: ExecutionState,
  event: Extract<ExecutionEvent, { type: 'statusRejected' }>,
  now: string,
): Decision {
  const es = event.executionState;
  if (es && TERMINAL_STATUSES.has(es.status)) return settleOutbox(state, es.status, now, event.code);
  if (event.code === 'VersionMismatch') {
    if (es?.status === 'IN_PROGRESS') {
      return same(
        { ...state, versionNumber: es.versionNumber, sending: true },
        { type: 'persist' },
        { type: 'sendStatus' },
      );
    }
    return same(state, { type: 'describe' });
  }
  if (GONE_CODES.has(event.code)) {
    return {
      state: close(state, 'dropped', now, `${event.code}: execution no longer updatable`),
      actions: [{ type: 'persist' }, log('warn', 'dropping final status', { code: event.code })],
    };
  }
  if (event.code === 'InvalidRequest' && !state.detailsReduced && state.outcome) {
    // Should not happen (details are sanitized); keep the status, give up on the details but the reason.
    const reason = state.outcome.statusDetails.reason;
    const outcome: JobOutcome = { status: state.outcome.status, statusDetails: reason ? { reason } : {} };
    return same(
      { ...state, outcome, detailsReduced: true, sending: true },
      log('warn', 'service refused the statusDetails; re-sending the status with the reason only'),
      { type: 'persist' },
      { type: 'sendStatus' },
    );
  }
  return {
    state: close(state, 'dropped', now, `${event.code}: refused by the service`),
    actions: [{ type: 'persist' }, log('error', 'final status refused; dropping it', { code: event.code })],
  };
}
