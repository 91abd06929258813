// The IN_PROGRESS claim, in one place: the claim id it carries, the update it sends, and how an answer
// of the service (the accepted reply with includeJobExecutionState, or a describe) is recognised as
// this agent's claim. Two agents for one thing (a hand-run `ggjobs start` beside the component, a
// cloned image) both see the QUEUED execution; expectedVersion lets only one claim land, and the claim
// id in statusDetails is how each of them learns which one it was. Every later IN_PROGRESS update
// (progress heartbeats, a step timeout) must build its statusDetails with claimStatusDetails() so the
// claim id stays in place.
import { randomBytes } from 'node:crypto';
import type { ExecutionState } from './execution.js';
import type { UpdateRequest } from './jobs-client.js';

/** The statusDetails key holding the claim id. */
export const CLAIM_ID_KEY = 'ggjobsClaimId';

/** A random claim id (journaled before the claim is sent). */
export function newClaimId(): string {
  return randomBytes(12).toString('base64url');
}

/** statusDetails of an IN_PROGRESS update of a claimed execution: `extra` plus the claim id. */
export function claimStatusDetails(
  claimId: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { ...extra, [CLAIM_ID_KEY]: claimId };
}

export function claimIdOf(statusDetails: Record<string, string> | undefined): string | undefined {
  return statusDetails?.[CLAIM_ID_KEY];
}

/**
 * Whose claim the service shows: `ours` (our claim id), `other` (another claim id), `unknown` (no
 * claim id at all). A record journaled before claim ids existed has none: every claim is `ours` then.
 */
export function claimOwner(
  state: Pick<ExecutionState, 'claimId'>,
  statusDetails: Record<string, string> | undefined,
): 'ours' | 'other' | 'unknown' {
  if (state.claimId === undefined) return 'ours';
  const shown = claimIdOf(statusDetails);
  if (shown === undefined) return 'unknown';
  return shown === state.claimId ? 'ours' : 'other';
}

/** The claim: UpdateJobExecution IN_PROGRESS with expectedVersion, asking for the state it leaves. */
export function claimRequest(state: ExecutionState, expectedVersion: number): UpdateRequest {
  const req: UpdateRequest = {
    status: 'IN_PROGRESS',
    expectedVersion,
    executionNumber: state.executionNumber,
    includeJobExecutionState: true,
  };
  if (state.claimId !== undefined) req.statusDetails = claimStatusDetails(state.claimId);
  return req;
}
