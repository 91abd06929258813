// The listen-and-run agent: subscribes to the namespaced Jobs topics, turns notifications, describe
// results, runner outcomes and update replies into events for decide() (one at a time, in order), and
// performs the actions it returns. All decisions live in decide.ts; this file wires the I/O parts
// around it and owns the lifecycle (start, reconnect, stop):
//   execution-queue.ts       events -> decide() -> journal writes, then actions
//   action-executor.ts       claim, run, abort, send status, describe, retry later, log
//   sync-loop.ts             describe the latest execution (coalesced) and the ones we hold
//   notification-handler.ts  notify topics -> sync
//   outbox-retry.ts          backoff timers for unsent final statuses
import { KILL_WAIT_MS, killTrackedProcessGroups, trackedProcessGroups } from '../run/spawn.js';
import { ActionExecutor } from './action-executor.js';
import { type ExecutionEvent, type ExecutionState, stateFromRecord } from './decide.js';
import { ExecutionQueue } from './execution-queue.js';
import { Heartbeats } from './heartbeats.js';
import { JobsClient } from './jobs-client.js';
import { Journal } from './journal.js';
import type { Listener, ListenerEvent, ListenerLifecycle, ListenerOptions } from './listener-types.js';
import { subscribeNotifications } from './notification-handler.js';
import { OutboxRetryTimers } from './outbox-retry.js';
import { Runs } from './runs.js';
import { SyncLoop } from './sync-loop.js';
import type { JobIds } from './topics.js';

export type { Listener, ListenerEvent, ListenerOptions } from './listener-types.js';

export async function startListener(options: ListenerOptions): Promise<Listener> {
  const agent = new Agent(options);
  await agent.start();
  return agent;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
const IDLE_POLL_MS = 200;

class Agent implements Listener {
  private readonly ids: JobIds;
  private readonly log: ListenerOptions['log'];
  private readonly client: JobsClient;
  private readonly journal: Journal;
  private readonly runs: Runs;
  private readonly heartbeats: Heartbeats;
  private readonly queue: ExecutionQueue;
  private readonly executor: ActionExecutor;
  private readonly retries: OutboxRetryTimers;
  private readonly syncLoop: SyncLoop;
  private readonly lifecycle: ListenerLifecycle = { ready: false, stopping: false, stopped: false };
  private stopPromise: Promise<void> | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly onConnected = () => this.resync();
  private readonly onEvent = (event: ListenerEvent) => this.opts.onEvent?.(event);
  private readonly dispatch = (n: number, event: ExecutionEvent) => this.queue.dispatch(n, event);

  constructor(private readonly opts: ListenerOptions) {
    const { config, transport } = opts;
    const { lifecycle, onEvent, dispatch } = this;
    this.ids = { thingName: config.thingName, jobId: config.jobId, namespaceId: config.namespaceId };
    const ids = this.ids;
    const log = opts.log.child({ jobId: config.jobId, namespaceId: config.namespaceId });
    this.log = log;
    const listen = config.listen;
    this.client = new JobsClient({
      transport,
      ids,
      requestTimeoutMs: listen.requestTimeoutMs,
      requestRetries: listen.requestRetries,
      log,
    });
    this.journal = new Journal({ stateDirectory: config.stateDirectory, ids, log });
    this.queue = new ExecutionQueue({
      journal: this.journal,
      log,
      lifecycle,
      perform: (n, state, action) => this.executor.perform(n, state, action),
      released: () => void this.syncLoop.sync(),
      onEvent,
      firstStep: opts.runJob.firstStep,
    });
    const states = this.queue.states;
    this.heartbeats = new Heartbeats({
      client: this.client,
      config,
      log,
      state: (n) => states.get(n),
      dispatch,
      describe: (n) => void this.syncLoop.describeOne(n),
      onHeartbeat: (executionNumber, statusDetails) =>
        onEvent({ type: 'heartbeat', executionNumber, statusDetails }),
    });
    this.runs = new Runs({
      ids,
      runJob: opts.runJob,
      log,
      state: (n) => states.get(n),
      dispatch,
      observer: this.heartbeats,
    });
    this.syncLoop = new SyncLoop({
      client: this.client,
      ids,
      config,
      log,
      lifecycle,
      states,
      dispatch,
      onEvent,
    });
    this.retries = new OutboxRetryTimers({ config, transport, lifecycle, dispatch });
    this.executor = new ActionExecutor({
      client: this.client,
      runs: this.runs,
      log,
      dispatch,
      describe: (n) => void this.syncLoop.describeOne(n),
      retryLater: (n, attempt) => this.retries.schedule(n, attempt),
      claimStepTimeout: (n, document) => this.heartbeats.claimStepTimeout(n, document),
    });
  }

  async start(): Promise<void> {
    for (const record of await this.journal.load()) {
      this.queue.states.set(record.executionNumber, stateFromRecord(record));
    }
    const { transport, config } = this.opts;
    await this.client.start();
    await subscribeNotifications({
      transport,
      ids: this.ids,
      config,
      log: this.log,
      lifecycle: this.lifecycle,
      states: this.queue.states,
      sync: (stillNeeded) => this.syncLoop.sync(stillNeeded),
      dispatch: this.dispatch,
      onEvent: this.onEvent,
    });
    transport.on('connected', this.onConnected);
    if (!transport.connected) await transport.connect();
    this.lifecycle.ready = true;
    for (const n of [...this.queue.states.keys()]) void this.dispatch(n, { type: 'recovered' });
    void this.sync();
    const poll = config.listen.pollIntervalSeconds;
    if (poll > 0) this.pollTimer = setInterval(() => void this.sync(), poll * 1000).unref();
  }

  executions(): ExecutionState[] {
    return [...this.queue.states.values()].map((s) => ({ ...s }));
  }

  sync(): Promise<void> {
    return this.syncLoop.sync();
  }

  isBusy(): boolean {
    return this.queue.busy || this.runs.size > 0;
  }

  pauseNewWork(reason: string): void {
    if (this.lifecycle.paused === undefined) this.log.info({ reason }, 'taking no new jobs for now');
    this.lifecycle.paused = reason;
  }

  resumeNewWork(): void {
    if (this.lifecycle.paused === undefined) return;
    this.lifecycle.paused = undefined;
    this.log.info('taking new jobs again');
    void this.sync();
  }

  async whenIdle(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.isBusy()) {
      if (signal?.aborted || Date.now() >= deadline) return false;
      await sleep(Math.min(IDLE_POLL_MS, Math.max(1, deadline - Date.now())));
    }
    return true;
  }

  /** Reconnected: whatever waits on the service is retried now, then describe. */
  private resync(): void {
    if (!this.lifecycle.ready || this.lifecycle.stopped) return;
    for (const s of this.queue.states.values()) {
      const waiting =
        s.phase === 'claiming' || s.phase === 'finished' || (s.phase === 'started' && !s.running);
      if (waiting) {
        void this.dispatch(s.executionNumber, { type: 'retryDue' });
      }
    }
    void this.sync();
  }

  stop(options: { graceMs?: number; flushMs?: number } = {}): Promise<void> {
    this.stopPromise ??= this.shutdown(
      options.graceMs ?? this.opts.config.listen.shutdownGraceSeconds * 1000,
      options.flushMs ?? this.opts.config.listen.requestTimeoutMs,
    );
    return this.stopPromise;
  }

  private async shutdown(graceMs: number, flushMs: number): Promise<void> {
    this.lifecycle.stopping = true;
    clearInterval(this.pollTimer);
    if (this.runs.size > 0) {
      // A job in a resumable step is suspended at once (a reboot is under way); any other gets graceMs.
      for (const n of this.runs.numbers()) await this.dispatch(n, { type: 'stopping' });
      this.log.info({ graceMs }, 'stopping: waiting for the running job');
      if (!(await this.runs.settledWithin(graceMs))) {
        for (const n of this.runs.numbers()) await this.dispatch(n, { type: 'stopDeadline' });
      }
      // An aborted step's group gets SIGTERM, killGraceSeconds, then SIGKILL: wait for all of it.
      const killMs = this.opts.config.executor.killGraceSeconds * 1000 + KILL_WAIT_MS + 1_000;
      await this.runs.settledWithin(killMs);
    }
    if (trackedProcessGroups().length > 0) {
      // Nothing a step started may outlive the agent (a runner that ignored the abort, say).
      const gone = await killTrackedProcessGroups();
      this.log.warn({ gone }, 'stopping: killed the process groups of steps still running');
    }
    await this.queue.idle();
    // Flush: one more attempt for every status waiting in the outbox, bounded by flushMs.
    if (this.opts.transport.connected) {
      for (const s of this.queue.states.values()) {
        if (s.phase === 'finished' && !s.sending) void this.dispatch(s.executionNumber, { type: 'retryDue' });
      }
      await this.queue.idle();
    }
    const deadline = Date.now() + flushMs;
    while (this.executor.sendsInFlight > 0 && Date.now() < deadline) {
      await Promise.race([this.executor.sendsSettled(), sleep(Math.max(0, deadline - Date.now()))]);
      await this.queue.idle();
    }
    this.lifecycle.stopped = true;
    this.syncLoop.stop();
    this.retries.clear();
    this.heartbeats.clear();
    this.opts.transport.off('connected', this.onConnected);
    this.client.close();
    await this.queue.idle();
    await this.journal.close();
    await this.opts.transport.close();
    this.log.info('listener stopped');
  }
}
