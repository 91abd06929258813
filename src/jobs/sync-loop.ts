// Describes the job's latest execution for this thing and feeds it to the queue (coalesced: one
// describe in flight, one queued), and describes individually the executions we hold that are not the
// latest one. A failed describe is retried with backoff; offline, the reconnect triggers the next one.
import type { Config } from '../config/schema.js';
import { JobsRequestRejectedError, TransportOfflineError } from '../errors.js';
import type { Logger } from '../log.js';
import { backoffDelay } from './backoff.js';
import type { ExecutionState } from './decide.js';
import { holding } from './execution-queue.js';
import type { JobsClient } from './jobs-client.js';
import type { Dispatch, ListenerEvent, ListenerLifecycle } from './listener-types.js';
import type { Execution } from './payloads.js';
import { requestDescribe } from './requests.js';
import type { JobIds } from './topics.js';

export interface SyncLoopOptions {
  client: JobsClient;
  ids: JobIds;
  config: Config;
  log: Logger;
  lifecycle: ListenerLifecycle;
  states: ReadonlyMap<number, ExecutionState>;
  dispatch: Dispatch;
  onEvent?: (event: ListenerEvent) => void;
}

export class SyncLoop {
  private readonly describing = new Set<number>();
  private syncing = false;
  private syncAgain = false;
  /** Asked for while a describe was in flight, only if still needed once its answer is in. */
  private readonly againIf: Array<() => boolean> = [];
  private syncFailures = 0;
  private syncTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: SyncLoopOptions) {}

  /**
   * Describes the job's latest execution for this thing (coalesced: one in flight, one queued).
   * `stillNeeded`: asked while a describe is in flight, the next one is made only if this still
   * returns true once the answer in flight has been decided (a notification it already answers).
   */
  async sync(stillNeeded?: () => boolean): Promise<void> {
    const { lifecycle } = this.opts;
    if (lifecycle.stopped || !lifecycle.ready) return;
    if (this.syncing) {
      if (stillNeeded) this.againIf.push(stillNeeded);
      else this.syncAgain = true;
      return;
    }
    this.syncing = true;
    try {
      do {
        this.syncAgain = false;
        this.againIf.length = 0;
        await this.syncOnce();
      } while (!lifecycle.stopped && (this.syncAgain || this.againIf.some((needed) => needed())));
    } finally {
      this.syncing = false;
    }
  }

  async describeOne(n: number): Promise<void> {
    if (this.describing.has(n) || this.opts.lifecycle.stopped) return;
    this.describing.add(n);
    try {
      const event = await requestDescribe(this.opts.client, n);
      if (event) await this.opts.dispatch(n, event);
    } finally {
      this.describing.delete(n);
    }
  }

  /** Cancels a pending describe retry. */
  stop(): void {
    clearTimeout(this.syncTimer);
  }

  private async syncOnce(): Promise<void> {
    const { client, ids, log, states, dispatch } = this.opts;
    let latest: Execution | undefined;
    try {
      latest = (await client.describe({ includeJobDocument: true })).execution;
      this.syncFailures = 0;
    } catch (err) {
      if (err instanceof JobsRequestRejectedError) {
        // ResourceNotFound: no execution for this thing yet; TerminalStateReached: nothing active.
        const level = ['ResourceNotFound', 'TerminalStateReached'].includes(err.rejectedCode)
          ? 'debug'
          : 'warn';
        log[level]({ code: err.rejectedCode }, 'describe: no active execution');
      } else {
        this.onSyncFailure(err as Error);
        return;
      }
    }
    this.opts.onEvent?.({ type: 'synced', executionNumber: latest?.executionNumber, status: latest?.status });
    if (latest) {
      if (latest.jobId !== ids.jobId) {
        log.debug({ otherJobId: latest.jobId }, 'describe answered for another job; ignoring it');
      } else {
        await dispatch(latest.executionNumber, { type: 'described', execution: latest, canStart: true });
      }
    }
    // Executions we hold that are not the latest one: ask about each (cancelled? superseded?).
    for (const s of states.values()) {
      if (s.executionNumber !== latest?.executionNumber && (holding(s) || s.phase === 'started')) {
        void this.describeOne(s.executionNumber);
      }
    }
  }

  private onSyncFailure(err: Error): void {
    if (err instanceof TransportOfflineError) {
      this.opts.log.debug('describe skipped: offline (will describe after reconnecting)');
      return;
    }
    this.syncFailures += 1;
    const { outboxRetryMinMs, outboxRetryMaxMs } = this.opts.config.listen;
    const delay = backoffDelay(this.syncFailures, outboxRetryMinMs, outboxRetryMaxMs);
    this.opts.log.warn({ err: err.message, retryInMs: delay }, 'describe failed');
    clearTimeout(this.syncTimer);
    this.syncTimer = setTimeout(() => void this.sync(), delay).unref();
  }
}
