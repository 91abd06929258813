// Timers that retry a final status the service has not accepted yet (the outbox), with backoff, one
// per execution. Only while connected: after a reconnect the listener retries everything at once.
import type { Config } from '../config/schema.js';
import type { Transport } from '../transport/types.js';
import { backoffDelay } from './backoff.js';
import type { Dispatch, ListenerLifecycle } from './listener-types.js';

export interface OutboxRetryOptions {
  config: Config;
  transport: Transport;
  lifecycle: ListenerLifecycle;
  dispatch: Dispatch;
}

export class OutboxRetryTimers {
  private readonly timers = new Map<number, NodeJS.Timeout>();

  constructor(private readonly opts: OutboxRetryOptions) {}

  /** Dispatches retryDue for execution n after the backoff delay of retry number `attempt`. */
  schedule(n: number, attempt: number): void {
    // Offline: the reconnect sends retryDue to everyone, no need for a timer.
    if (this.opts.lifecycle.stopped || !this.opts.transport.connected) return;
    const { outboxRetryMinMs, outboxRetryMaxMs } = this.opts.config.listen;
    clearTimeout(this.timers.get(n));
    const timer = setTimeout(
      () => {
        this.timers.delete(n);
        void this.opts.dispatch(n, { type: 'retryDue' });
      },
      backoffDelay(attempt, outboxRetryMinMs, outboxRetryMaxMs),
    );
    timer.unref();
    this.timers.set(n, timer);
  }

  clear(): void {
    for (const t of this.timers.values()) clearTimeout(t);
  }
}
