// The listener's public types (re-exported by listener.ts) and the lifecycle flags its parts share.
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { RunJob } from '../run/types.js';
import type { Transport } from '../transport/types.js';
import type { ExecutionEvent, ExecutionState, Phase } from './decide.js';
import type { NotifyForm } from './notifications.js';

export type ListenerEvent =
  | { type: 'transition'; executionNumber: number; from: Phase; to: Phase; cause: ExecutionEvent['type'] }
  | { type: 'notification'; form: NotifyForm; mentionsJob: boolean }
  | { type: 'ignoredPayload'; topic: string; problem: string }
  | { type: 'synced'; executionNumber?: number; status?: string }
  /** A progress heartbeat (IN_PROGRESS update) is being sent with these statusDetails. */
  | { type: 'heartbeat'; executionNumber: number; statusDetails: Record<string, string> };

export interface ListenerOptions {
  config: Config;
  transport: Transport;
  runJob: RunJob;
  log: Logger;
  onEvent?: (event: ListenerEvent) => void;
}

export interface Listener {
  /** Stop taking work, give a running job graceMs, flush the outbox (bounded), close the transport. */
  stop(options?: { graceMs?: number; flushMs?: number }): Promise<void>;
  /** Describe now (what notifications, reconnects and the poll timer do). */
  sync(): Promise<void>;
  /** A copy of every execution's state, for status output and tests. */
  executions(): ExecutionState[];
  /** Whether a job is being claimed, runs, or its final status is being sent (what a restart or a
   *  deployment waits for; a status that cannot be sent now waits in the outbox, not here). */
  isBusy(): boolean;
  /** Takes no new work (no new claims) until resumeNewWork(); a running job continues. */
  pauseNewWork(reason: string): void;
  resumeNewWork(): void;
  /** Resolves true once no job is claimed or running, false after `timeoutMs` or when `signal` aborts. */
  whenIdle(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
}

/** One object owned by the listener and read (live) by its parts, so they all agree on where it is:
 *  ready = started up (notifications and syncs count from now), stopping = takes no new work,
 *  stopped = timers are cleared and nothing new is sent, paused = takes no new work for now. */
export interface ListenerLifecycle {
  ready: boolean;
  stopping: boolean;
  stopped: boolean;
  /** No new claims (a restart or a deployment waits for the running job); undefined = not paused. */
  paused?: string;
}

/** Queues an event for decide(); resolves once its journal writes are done (`persisted` false if one failed). */
export type Dispatch = (executionNumber: number, event: ExecutionEvent) => Promise<{ persisted: boolean }>;
