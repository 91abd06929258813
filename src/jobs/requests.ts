// The three Jobs requests decide() asks for (claim, final status, describe of one execution), each
// turned into the event that reports its result. Never rejects: every failure is an event too.
import { JobsRequestRejectedError } from '../errors.js';
import { claimIdOf, claimRequest } from './claim.js';
import type { ExecutionEvent, ExecutionState } from './execution.js';
import { type JobsClient, RETRYABLE_REJECTIONS } from './jobs-client.js';

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** UpdateJobExecution IN_PROGRESS with expectedVersion and our claim id: the claim. */
export function requestClaim(
  client: JobsClient,
  state: ExecutionState,
  expectedVersion: number,
  stepTimeoutInMinutes?: number,
): Promise<ExecutionEvent> {
  const req = claimRequest(state, expectedVersion);
  if (stepTimeoutInMinutes !== undefined) req.stepTimeoutInMinutes = stepTimeoutInMinutes;
  return client.update(req).then(
    (res): ExecutionEvent => ({
      type: 'claimAccepted',
      versionNumber: res.executionState?.versionNumber,
      claimId: claimIdOf(res.executionState?.statusDetails),
      canStart: true,
    }),
    (err): ExecutionEvent =>
      err instanceof JobsRequestRejectedError
        ? { type: 'claimRejected', code: err.rejectedCode }
        : { type: 'claimFailed', error: message(err) },
  );
}

/** UpdateJobExecution with the journaled final status; the same executionNumber and expectedVersion
 *  on every re-send make a duplicate harmless (the service refuses it). */
export function requestFinalStatus(client: JobsClient, state: ExecutionState): Promise<ExecutionEvent> {
  const outcome = state.outcome!;
  return client
    .update({
      status: outcome.status,
      statusDetails: outcome.statusDetails,
      executionNumber: state.executionNumber,
      ...(state.versionNumber !== undefined ? { expectedVersion: state.versionNumber } : {}),
    })
    .then(
      (): ExecutionEvent => ({ type: 'statusAccepted' }),
      (err): ExecutionEvent => {
        if (err instanceof JobsRequestRejectedError && !RETRYABLE_REJECTIONS.has(err.rejectedCode)) {
          const payload = err.payload as
            { executionState?: { status: string; versionNumber: number } } | undefined;
          return { type: 'statusRejected', code: err.rejectedCode, executionState: payload?.executionState };
        }
        return { type: 'statusFailed', error: message(err) };
      },
    );
}

/** DescribeJobExecution of one execution number (with its job document). */
export function requestDescribe(client: JobsClient, n: number): Promise<ExecutionEvent | undefined> {
  return client.describe({ executionNumber: n, includeJobDocument: true }).then(
    (res): ExecutionEvent | undefined =>
      res.execution ? { type: 'described', execution: res.execution, canStart: true } : undefined,
    (err): ExecutionEvent =>
      err instanceof JobsRequestRejectedError
        ? { type: 'describeRejected', code: err.rejectedCode }
        : { type: 'describeFailed', error: message(err) },
  );
}
