// What a notification calls for, given what the agent knows of its executions. Pure. A describe costs
// a round trip and CPU on a small device, so a notification is checked against the states first:
//   - a QUEUED execution we do not know, shown with its job document (notify-next), is handed to
//     decide() as described: the claim carries expectedVersion, so a stale one is refused by the
//     service (VersionMismatch, or the execution is gone) and a describe follows from decide();
//   - one we know and the notification agrees with (QUEUED while our claim is on its way, IN_PROGRESS
//     while we claim, run or report it, at no newer version than ours) needs nothing, and so does one
//     it shows at an older version than ours: the service numbers each change of an execution, so it
//     is news the reply to our own update already overtook (a retry is a new execution number);
//   - anything else asks for a describe: an execution we do not know without its document or not
//     QUEUED, one the notification shows otherwise than we know it at our version or a newer one (the
//     service having moved on), one we hold that it leaves out (cancelled? timed out?), and a body
//     that shows nothing of the executions.
import type { DescribedExecution, ExecutionState } from './execution.js';
import type { NotificationHint, NotifiedExecution } from './notifications.js';

export interface NotificationNeed {
  /** Executions to hand to decide() as described, from the notification alone. */
  described: Array<{ executionNumber: number; execution: DescribedExecution }>;
  /** A describe of the job's latest execution is needed. */
  describe: boolean;
}

const NOTHING: NotificationNeed = { described: [], describe: false };

/** `holding`: the execution occupies the agent (execution-queue.ts). */
export function notificationNeed(
  hint: NotificationHint,
  states: ReadonlyMap<number, ExecutionState>,
  holding: (s: ExecutionState) => boolean,
): NotificationNeed {
  if (!hint.ok) return NOTHING;
  const held = [...states.values()].filter(holding);
  if (!hint.mentionsJob && held.length === 0) return NOTHING;
  const shown = hint.executions;
  if (shown === undefined) return { described: [], describe: true };
  const need: NotificationNeed = { described: [], describe: false };
  for (const s of held) {
    if (!shown.some((e) => e.executionNumber === s.executionNumber)) need.describe = true;
  }
  for (const e of shown) {
    const n = e.executionNumber;
    const known = n === undefined ? undefined : states.get(n);
    if (n === undefined) need.describe = true;
    else if (known === undefined || known.phase === 'new') {
      const usable = e.status === 'QUEUED' && e.hasDocument && e.versionNumber !== undefined;
      if (usable) need.described.push({ executionNumber: n, execution: describedFrom(e) });
      else need.describe = true;
    } else if (!agrees(known, e)) need.describe = true;
  }
  return need;
}

function describedFrom(e: NotifiedExecution): DescribedExecution {
  const execution: DescribedExecution = { status: e.status, versionNumber: e.versionNumber! };
  if (e.statusDetails !== undefined) execution.statusDetails = e.statusDetails;
  execution.jobDocument = e.jobDocument;
  return execution;
}

/** The notification shows the execution as the agent already knows it (nothing to ask). */
function agrees(s: ExecutionState, e: NotifiedExecution): boolean {
  const ours = s.versionNumber ?? 0;
  if (e.versionNumber !== undefined && e.versionNumber < ours) return true; // overtaken: nothing new
  const notNewer = e.versionNumber !== undefined && e.versionNumber <= ours;
  if (e.status === 'QUEUED') return s.phase === 'claiming' && notNewer;
  if (e.status === 'IN_PROGRESS') {
    // While our claim is on its way its reply settles it (ours, or VersionMismatch and a describe).
    if (s.phase === 'claiming') return s.sending || notNewer;
    return (s.phase === 'started' || s.phase === 'finished') && notNewer;
  }
  return false;
}
