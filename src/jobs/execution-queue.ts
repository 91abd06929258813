// Feeds events to decide() one at a time, in order, and carries out what it returns: journal writes
// first (awaited, in order), every other action handed to the executor. Owns every execution's state.
import type { Logger } from '../log.js';
import type { RunJob } from '../run/types.js';
import {
  decide,
  type ExecutionAction,
  type ExecutionEvent,
  type ExecutionState,
  newExecutionState,
  recordFromState,
} from './decide.js';
import { newClaimId } from './claim.js';
import type { Journal } from './journal.js';
import type { ListenerEvent, ListenerLifecycle } from './listener-types.js';

/** The execution occupies the agent: its claim is under way or its job still runs here (even when
 *  already cancelled or reported interrupted: an aborted job may still be cleaning up). */
export const holding = (s: ExecutionState) => s.phase === 'claiming' || s.running;

export interface ExecutionQueueOptions {
  journal: Journal;
  log: Logger;
  lifecycle: ListenerLifecycle;
  /** Performs a side effect decide() asked for (anything but `persist`). */
  perform: (executionNumber: number, state: ExecutionState, action: ExecutionAction) => void;
  /** An execution stopped occupying the agent while another one waited for it: time to look again. */
  released: () => void;
  onEvent?: (event: ListenerEvent) => void;
  /** The runner's RunJob.firstStep: lets decide() journal the first step with `started`. */
  firstStep?: RunJob['firstStep'];
}

export class ExecutionQueue {
  readonly states = new Map<number, ExecutionState>();
  private chain: Promise<unknown> = Promise.resolve();
  /** A queued execution was seen while it could not be claimed: look again once the agent is free.
   *  (Nothing waited: no describe then; a later execution is announced by its own notification.) */
  private deferred = false;

  constructor(private readonly opts: ExecutionQueueOptions) {}

  /** Whether an execution is being claimed or runs here, or its final status is on its way. */
  get busy(): boolean {
    for (const s of this.states.values())
      if (holding(s) || (s.phase === 'finished' && s.sending)) return true;
    return false;
  }

  /** Settles once every event queued so far has been decided and its journal writes are done. */
  idle(): Promise<unknown> {
    return this.chain;
  }

  /** Queues an event; events are decided one at a time. Resolves after its persist actions. */
  dispatch(n: number, event: ExecutionEvent): Promise<{ persisted: boolean }> {
    const p = this.chain.then(() => this.process(n, event));
    this.chain = p.catch(() => undefined);
    return p;
  }

  private canStart(n: number): boolean {
    if (this.opts.lifecycle.stopping) return false;
    // Paused takes no new claim; a claim already under way is the job the pause waits for.
    if (this.opts.lifecycle.paused !== undefined && this.states.get(n)?.phase !== 'claiming') return false;
    for (const s of this.states.values()) if (s.executionNumber !== n && holding(s)) return false;
    return true;
  }

  private async process(n: number, event: ExecutionEvent): Promise<{ persisted: boolean }> {
    const before = this.states.get(n) ?? newExecutionState(n);
    let ev = 'canStart' in event ? { ...event, canStart: this.canStart(n) } : event;
    // Only a new execution may be claimed: a claim id is drawn for it alone.
    if (ev.type === 'described' && ev.claimId === undefined && before.phase === 'new') {
      ev = { ...ev, claimId: newClaimId() };
    }
    // A claim that lands starts the run: say which step it starts with, when the runner can tell.
    if ((ev.type === 'claimAccepted' || ev.type === 'described') && before.phase === 'claiming') {
      const document = ev.type === 'described' ? ev.execution.jobDocument : before.document;
      const firstStep = document === undefined ? undefined : this.opts.firstStep?.(document);
      if (firstStep) ev = { ...ev, firstStep };
    }
    const { state, actions } = decide(before, ev, new Date().toISOString());
    this.states.set(n, state);
    if (state.phase !== before.phase) {
      this.opts.onEvent?.({
        type: 'transition',
        executionNumber: n,
        from: before.phase,
        to: state.phase,
        cause: ev.type,
      });
    }
    if (ev.type === 'described' && !ev.canStart && state.phase === before.phase) this.deferred = true;
    let persisted = true;
    for (const action of actions) {
      if (!persisted && (action.type === 'run' || action.type === 'claim')) {
        // Never act on something the journal does not know about.
        const error = 'journal-unavailable';
        void this.dispatch(
          n,
          action.type === 'run' ? { type: 'runSettled', error } : { type: 'claimFailed', error },
        );
        continue;
      }
      if (action.type === 'persist') persisted = (await this.persist(state)) && persisted;
      else this.opts.perform(n, state, action);
    }
    if (holding(before) && !holding(state) && this.deferred) {
      this.deferred = false;
      this.opts.released(); // free for the one that waited
    }
    return { persisted };
  }

  private async persist(state: ExecutionState): Promise<boolean> {
    const record = recordFromState(state);
    if (!record) return true;
    try {
      await this.opts.journal.save(record);
      return true;
    } catch (err) {
      this.opts.log.error(
        { executionNumber: state.executionNumber, err: (err as Error).message },
        'journal write failed',
      );
      return false;
    }
  }
}
