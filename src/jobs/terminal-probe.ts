// Which terminal status an execution reached. DescribeJobExecution answers TerminalStateReached without
// saying which one (TIMED_OUT? CANCELED? REMOVED?), but a refused update carries the execution's state:
// an IN_PROGRESS update with expectedVersion 0 (versions start at 1, so it can never be applied) is
// refused with InvalidStateTransition and the terminal status, or VersionMismatch if the execution is
// in fact still active. So the journal can record why an execution ended without changing anything.
import { JobsRequestRejectedError } from '../errors.js';
import type { JobsClient } from './jobs-client.js';
import { TERMINAL_STATUSES } from './payloads.js';

export async function probeTerminalStatus(
  client: JobsClient,
  executionNumber: number,
): Promise<{ status: string; versionNumber: number } | undefined> {
  try {
    await client.update({ status: 'IN_PROGRESS', expectedVersion: 0, executionNumber });
  } catch (err) {
    if (!(err instanceof JobsRequestRejectedError)) return undefined;
    const state = (
      err.payload as { executionState?: { status?: string; versionNumber?: number } } | undefined
    )?.executionState;
    if (state?.status && TERMINAL_STATUSES.has(state.status)) {
      return { status: state.status, versionNumber: state.versionNumber ?? 0 };
    }
  }
  return undefined;
}
