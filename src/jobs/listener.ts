// The listen-and-run agent: subscribes to the namespaced Jobs topics, turns notifications, describe
// results, runner outcomes and update replies into events for decide() (one at a time, in order), and
// performs the actions it returns. All decisions live in decide.ts; this file is the I/O around it.
import type { Config } from '../config/schema.js';
import { JobsRequestRejectedError, TransportOfflineError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RunJob } from '../run/types.js';
import type { Transport } from '../transport/types.js';
import { backoffDelay } from './backoff.js';
import {
  decide,
  type ExecutionAction,
  type ExecutionEvent,
  type ExecutionState,
  newExecutionState,
  type Phase,
  recordFromState,
  stateFromRecord,
} from './decide.js';
import { JobsClient } from './jobs-client.js';
import { Journal } from './journal.js';
import { type NotifyForm, readNotification } from './notifications.js';
import type { Execution } from './payloads.js';
import { requestClaim, requestDescribe, requestFinalStatus } from './requests.js';
import { Runs } from './runs.js';
import { type JobIds, jobsTopics } from './topics.js';

export type ListenerEvent =
  | { type: 'transition'; executionNumber: number; from: Phase; to: Phase; cause: ExecutionEvent['type'] }
  | { type: 'notification'; form: NotifyForm; mentionsJob: boolean }
  | { type: 'ignoredPayload'; topic: string; problem: string }
  | { type: 'synced'; executionNumber?: number; status?: string };

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
}

export async function startListener(options: ListenerOptions): Promise<Listener> {
  const agent = new Agent(options);
  await agent.start();
  return agent;
}

/** The execution occupies the agent: its claim is under way or its job still runs here (even when
 *  already cancelled or reported interrupted: an aborted job may still be cleaning up). */
const holding = (s: ExecutionState) => s.phase === 'claiming' || s.running;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

class Agent implements Listener {
  private readonly ids: JobIds;
  private readonly log: Logger;
  private readonly client: JobsClient;
  private readonly journal: Journal;
  private readonly runs: Runs;
  private readonly states = new Map<number, ExecutionState>();
  private readonly retryTimers = new Map<number, NodeJS.Timeout>();
  private readonly describing = new Set<number>();
  private readonly sends = new Set<Promise<void>>();
  private chain: Promise<unknown> = Promise.resolve();
  private ready = false;
  private stopping = false;
  private stopped = false;
  private stopPromise: Promise<void> | undefined;
  private syncing = false;
  private syncAgain = false;
  private syncFailures = 0;
  private syncTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly onConnected = () => this.resync();

  constructor(private readonly opts: ListenerOptions) {
    const { config } = opts;
    this.ids = { thingName: config.thingName, jobId: config.jobId, namespaceId: config.namespaceId };
    this.log = opts.log.child({ jobId: config.jobId, namespaceId: config.namespaceId });
    const listen = config.listen;
    this.client = new JobsClient({
      transport: opts.transport,
      ids: this.ids,
      requestTimeoutMs: listen.requestTimeoutMs,
      requestRetries: listen.requestRetries,
      log: this.log,
    });
    this.journal = new Journal({ stateDirectory: config.stateDirectory, ids: this.ids, log: this.log });
    this.runs = new Runs({
      ids: this.ids,
      runJob: opts.runJob,
      log: this.log,
      state: (n) => this.states.get(n),
      dispatch: (n, e) => this.dispatch(n, e),
    });
  }

  async start(): Promise<void> {
    for (const record of await this.journal.load()) {
      this.states.set(record.executionNumber, stateFromRecord(record));
    }
    const { transport, config } = this.opts;
    await this.client.start();
    const t = jobsTopics(this.ids);
    const forms: Array<[NotifyForm, string, boolean]> = [
      ['perJob', t.notifyPerJob, config.listen.notifyTopics.perJob],
      ['thing', t.notifyThing, config.listen.notifyTopics.thing],
      ['thingNext', t.notifyThingNext, config.listen.notifyTopics.thingNext],
    ];
    for (const [form, topic, enabled] of forms) {
      if (enabled)
        await transport.subscribe(topic, (_, payload) => this.onNotification(form, topic, payload));
    }
    transport.on('connected', this.onConnected);
    if (!transport.connected) await transport.connect();
    this.ready = true;
    for (const n of [...this.states.keys()]) void this.dispatch(n, { type: 'recovered' });
    void this.sync();
    const poll = config.listen.pollIntervalSeconds;
    if (poll > 0) this.pollTimer = setInterval(() => void this.sync(), poll * 1000).unref();
  }

  executions(): ExecutionState[] {
    return [...this.states.values()].map((s) => ({ ...s }));
  }

  private canStart(n: number): boolean {
    if (this.stopping) return false;
    for (const s of this.states.values()) if (s.executionNumber !== n && holding(s)) return false;
    return true;
  }

  /** Queues an event; events are decided one at a time. Resolves after its persist actions. */
  private dispatch(n: number, event: ExecutionEvent): Promise<{ persisted: boolean }> {
    const p = this.chain.then(() => this.process(n, event));
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async process(n: number, event: ExecutionEvent): Promise<{ persisted: boolean }> {
    const before = this.states.get(n) ?? newExecutionState(n);
    const ev = 'canStart' in event ? { ...event, canStart: this.canStart(n) } : event;
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
      else this.perform(n, state, action);
    }
    if (holding(before) && !holding(state)) void this.sync(); // free for the next one
    return { persisted };
  }

  private async persist(state: ExecutionState): Promise<boolean> {
    const record = recordFromState(state);
    if (!record) return true;
    try {
      await this.journal.save(record);
      return true;
    } catch (err) {
      this.log.error(
        { executionNumber: state.executionNumber, err: (err as Error).message },
        'journal write failed',
      );
      return false;
    }
  }

  private perform(n: number, state: ExecutionState, action: ExecutionAction): void {
    switch (action.type) {
      case 'claim':
        void requestClaim(this.client, n, action.expectedVersion).then((e) => this.dispatch(n, e));
        return;
      case 'run':
        this.runs.start(n, action.document, action.resumeFromStep);
        return;
      case 'abort':
        this.runs.abort(n, action.reason);
        return;
      case 'sendStatus':
        this.sendStatus(n, state);
        return;
      case 'describe':
        void this.describeOne(n);
        return;
      case 'retryLater':
        this.retryLater(n, action.attempt);
        return;
      case 'log':
        this.log[action.level]({ executionNumber: n, ...action.fields }, action.msg);
        return;
      case 'persist':
        return;
    }
  }

  private sendStatus(n: number, state: ExecutionState): void {
    if (!state.outcome) return;
    const send = requestFinalStatus(this.client, state).then((e) =>
      this.dispatch(n, e).then(() => undefined),
    );
    this.sends.add(send);
    send.finally(() => this.sends.delete(send));
  }

  private retryLater(n: number, attempt: number): void {
    // Offline: the reconnect sends retryDue to everyone, no need for a timer.
    if (this.stopped || !this.opts.transport.connected) return;
    const { outboxRetryMinMs, outboxRetryMaxMs } = this.opts.config.listen;
    clearTimeout(this.retryTimers.get(n));
    const timer = setTimeout(
      () => {
        this.retryTimers.delete(n);
        void this.dispatch(n, { type: 'retryDue' });
      },
      backoffDelay(attempt, outboxRetryMinMs, outboxRetryMaxMs),
    );
    timer.unref();
    this.retryTimers.set(n, timer);
  }

  private resync(): void {
    if (!this.ready || this.stopped) return;
    for (const s of this.states.values()) {
      const waiting =
        s.phase === 'claiming' || s.phase === 'finished' || (s.phase === 'started' && !s.running);
      if (waiting) {
        void this.dispatch(s.executionNumber, { type: 'retryDue' });
      }
    }
    void this.sync();
  }

  /** Describes the job's latest execution for this thing (coalesced: one in flight, one queued). */
  async sync(): Promise<void> {
    if (this.stopped || !this.ready) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = true;
    try {
      do {
        this.syncAgain = false;
        await this.syncOnce();
      } while (this.syncAgain && !this.stopped);
    } finally {
      this.syncing = false;
    }
  }

  private async syncOnce(): Promise<void> {
    let latest: Execution | undefined;
    try {
      latest = (await this.client.describe({ includeJobDocument: true })).execution;
      this.syncFailures = 0;
    } catch (err) {
      if (err instanceof JobsRequestRejectedError) {
        // ResourceNotFound: no execution for this thing yet; TerminalStateReached: nothing active.
        const level = ['ResourceNotFound', 'TerminalStateReached'].includes(err.rejectedCode)
          ? 'debug'
          : 'warn';
        this.log[level]({ code: err.rejectedCode }, 'describe: no active execution');
      } else {
        this.onSyncFailure(err as Error);
        return;
      }
    }
    this.opts.onEvent?.({ type: 'synced', executionNumber: latest?.executionNumber, status: latest?.status });
    if (latest) {
      if (latest.jobId !== this.ids.jobId) {
        this.log.debug({ otherJobId: latest.jobId }, 'describe answered for another job; ignoring it');
      } else {
        await this.dispatch(latest.executionNumber, { type: 'described', execution: latest, canStart: true });
      }
    }
    // Executions we hold that are not the latest one: ask about each (cancelled? superseded?).
    for (const s of this.states.values()) {
      if (s.executionNumber !== latest?.executionNumber && (holding(s) || s.phase === 'started')) {
        void this.describeOne(s.executionNumber);
      }
    }
  }

  private onSyncFailure(err: Error): void {
    if (err instanceof TransportOfflineError) {
      this.log.debug('describe skipped: offline (will describe after reconnecting)');
      return;
    }
    this.syncFailures += 1;
    const { outboxRetryMinMs, outboxRetryMaxMs } = this.opts.config.listen;
    const delay = backoffDelay(this.syncFailures, outboxRetryMinMs, outboxRetryMaxMs);
    this.log.warn({ err: err.message, retryInMs: delay }, 'describe failed');
    clearTimeout(this.syncTimer);
    this.syncTimer = setTimeout(() => void this.sync(), delay).unref();
  }

  private async describeOne(n: number): Promise<void> {
    if (this.describing.has(n) || this.stopped) return;
    this.describing.add(n);
    try {
      const event = await requestDescribe(this.client, n);
      if (event) await this.dispatch(n, event);
    } finally {
      this.describing.delete(n);
    }
  }

  private onNotification(form: NotifyForm, topic: string, payload: Buffer): void {
    if (!this.ready || this.stopped) return;
    const hint = readNotification(form, payload, this.ids.jobId);
    if (!hint.ok) {
      this.log.warn({ topic, problem: hint.problem }, 'ignoring malformed notification');
      this.opts.onEvent?.({ type: 'ignoredPayload', topic, problem: hint.problem });
      return;
    }
    this.opts.onEvent?.({ type: 'notification', form, mentionsJob: hint.mentionsJob });
    const busy = [...this.states.values()].some(holding);
    if (hint.mentionsJob || busy) {
      void this.sync();
    } else if (hint.otherJobs.length > 0) {
      this.log.debug({ form, otherJobs: hint.otherJobs }, "ignoring other jobs' executions");
    }
  }

  stop(options: { graceMs?: number; flushMs?: number } = {}): Promise<void> {
    this.stopPromise ??= this.shutdown(
      options.graceMs ?? this.opts.config.listen.shutdownGraceSeconds * 1000,
      options.flushMs ?? this.opts.config.listen.requestTimeoutMs,
    );
    return this.stopPromise;
  }

  private async shutdown(graceMs: number, flushMs: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.pollTimer);
    if (this.runs.size > 0) {
      this.log.info({ graceMs }, 'stopping: waiting for the running job');
      if (!(await this.runs.settledWithin(graceMs))) {
        for (const n of this.runs.numbers()) await this.dispatch(n, { type: 'stopDeadline' });
        await this.runs.settledWithin(Math.min(graceMs, 5_000) + 1_000); // give the aborted job a moment to clean up
      }
    }
    await this.chain;
    // Flush: one more attempt for every status waiting in the outbox, bounded by flushMs.
    if (this.opts.transport.connected) {
      for (const s of this.states.values()) {
        if (s.phase === 'finished' && !s.sending) void this.dispatch(s.executionNumber, { type: 'retryDue' });
      }
      await this.chain;
    }
    const deadline = Date.now() + flushMs;
    while (this.sends.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.sends]), sleep(Math.max(0, deadline - Date.now()))]);
      await this.chain;
    }
    this.stopped = true;
    clearTimeout(this.syncTimer);
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.opts.transport.off('connected', this.onConnected);
    this.client.close();
    await this.chain;
    await this.opts.transport.close();
    this.log.info('listener stopped');
  }
}
