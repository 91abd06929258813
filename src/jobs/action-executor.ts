// Performs the side effects decide() asks for (claim, run, abort, send a final status, describe, retry
// later, log) and feeds each result back as an event. Keeps the final-status sends in flight, which
// the shutdown flush waits for.
import type { Logger } from '../log.js';
import type { ExecutionAction, ExecutionState } from './decide.js';
import type { JobsClient } from './jobs-client.js';
import type { Dispatch } from './listener-types.js';
import { requestClaim, requestFinalStatus } from './requests.js';
import type { Runs } from './runs.js';

export interface ActionExecutorOptions {
  client: JobsClient;
  runs: Runs;
  log: Logger;
  dispatch: Dispatch;
  /** Describes one execution (the sync loop's describeOne). */
  describe: (executionNumber: number) => void;
  /** Schedules a retryDue for an unsent status (the outbox retry timers). */
  retryLater: (executionNumber: number, attempt: number) => void;
  /** The claim's stepTimeoutInMinutes for this execution's document (heartbeats.ts). */
  claimStepTimeout?: (executionNumber: number, document: unknown) => number;
}

export class ActionExecutor {
  private readonly sends = new Set<Promise<void>>();

  constructor(private readonly opts: ActionExecutorOptions) {}

  /** How many final-status updates are in flight. */
  get sendsInFlight(): number {
    return this.sends.size;
  }

  /** Settles once every final-status update in flight now has settled. */
  sendsSettled(): Promise<unknown> {
    return Promise.allSettled([...this.sends]);
  }

  perform(n: number, state: ExecutionState, action: ExecutionAction): void {
    const { client, runs, log, dispatch } = this.opts;
    switch (action.type) {
      case 'claim': {
        // The service's step timer: if this device dies mid-step, the execution ends TIMED_OUT.
        const stepTimeout = this.opts.claimStepTimeout?.(n, state.document);
        void requestClaim(client, state, action.expectedVersion, stepTimeout).then((e) => dispatch(n, e));
        return;
      }
      case 'run':
        runs.start(n, action.document, action.resumeFromStep);
        return;
      case 'abort':
        runs.abort(n, action.reason);
        return;
      case 'sendStatus':
        this.sendStatus(n, state);
        return;
      case 'describe':
        this.opts.describe(n);
        return;
      case 'retryLater':
        this.opts.retryLater(n, action.attempt);
        return;
      case 'log':
        log[action.level]({ executionNumber: n, ...action.fields }, action.msg);
        return;
      case 'persist':
        return;
    }
  }

  private sendStatus(n: number, state: ExecutionState): void {
    if (!state.outcome) return;
    const send = requestFinalStatus(this.opts.client, state).then((e) =>
      this.opts.dispatch(n, e).then(() => undefined),
    );
    this.sends.add(send);
    // Handled here: a rejection of the chain derived by .finally() would be unhandled and stop Node.
    send.then(
      () => this.sends.delete(send),
      (err: unknown) => {
        this.sends.delete(send);
        this.opts.log.error({ err, executionNumber: n }, 'sending the final status failed unexpectedly');
      },
    );
  }
}
