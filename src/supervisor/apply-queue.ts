// Applying configurations to the agent, one at a time and newest first: a valid, different
// configuration is applied by stopping the running agent gracefully and starting it again in this
// process; a log level alone is set on the running one. A configuration that arrives while another is
// applied is taken next, and a start still under way for an older one is abandoned.
import type { RunningAgent } from '../agent.js';
import type { Config } from '../config/schema.js';
import type { EnrollResult } from '../enroll/enroll.js';
import type { Logger } from '../log.js';
import { changedKeys, enrollFingerprint, planReconfiguration } from './reconfigure.js';
import type { SupervisorEvent } from './types.js';

/** The reason an in-progress start is aborted with. */
export class StartAbandoned extends Error {}

export interface ApplyQueueOptions {
  log: Logger;
  emit: (event: SupervisorEvent) => void;
  applyLogLevel: (level: string) => void;
  /** Starts an agent for `config`; `enrollment` undefined means enroll (when config.enroll.enabled). */
  startAgent: (
    config: Config,
    options: { enrollment: EnrollResult | undefined; signal: AbortSignal },
  ) => Promise<RunningAgent>;
  /** The agent listens with a new configuration (after the 'started' event). */
  onListening: () => Promise<void>;
  /** Whether stop() or a fatal error is stopping everything: nothing more is applied. */
  isTerminating: () => boolean;
  /** Applying failed for good (`failure` is set): stop everything. */
  terminate: (failure: Error) => void;
}

export class ApplyQueue {
  private desired: Config | undefined;
  private running: { config: Config; agent: RunningAgent } | undefined;
  private starting: { config: Config; abort: AbortController } | undefined;
  private current: Promise<void> | undefined;
  private enrolled: { fingerprint: string; result: EnrollResult } | undefined;
  /** The configuration of the agent that ran last (what `changed` is relative to). */
  private lastConfig: Config | undefined;
  private failed: Error | undefined;
  /** Aborted by abandonStart(): a restart waiting for the running job stops waiting. */
  private restartWait: AbortController | undefined;

  constructor(private readonly options: ApplyQueueOptions) {}

  /** The configuration the running agent uses (undefined while none runs, e.g. during a restart). */
  get config(): Config | undefined {
    return this.running?.config;
  }

  get agent(): RunningAgent | undefined {
    return this.running?.agent;
  }

  /** What the agent runs with once the queue is done: what a new configuration is compared with. */
  get target(): Config | undefined {
    return this.desired ?? this.running?.config;
  }

  /** The apply in progress, if any. */
  get applying(): Promise<void> | undefined {
    return this.current;
  }

  /** The error that stops everything, once there is one. */
  get failure(): Error | undefined {
    return this.failed;
  }

  fail(error: Error): void {
    this.failed = error;
  }

  /** Resolves once nothing is being applied any more (newer configurations included). */
  async settled(): Promise<void> {
    while (this.current) await this.current;
  }

  /** Aborts a start under way (its agent is stopped rather than kept). */
  abandonStart(reason: string): void {
    this.starting?.abort.abort(new StartAbandoned(reason));
    this.restartWait?.abort(new StartAbandoned(reason));
  }

  /** The running agent, for the caller to stop; none runs afterwards. */
  takeRunning(): RunningAgent | undefined {
    const running = this.running;
    this.running = undefined;
    return running?.agent;
  }

  setDesired(next: Config): void {
    this.desired = next;
    // A start still under way is for an older configuration: abandon it (it may be waiting on a
    // broker that the new configuration no longer names).
    // (A log level alone is set once that start is done.)
    if (this.starting && planReconfiguration(this.starting.config, next, undefined).action === 'restart') {
      this.abandonStart('superseded by a newer configuration');
    }
    this.kick();
  }

  private kick(): void {
    if (this.current || this.options.isTerminating()) return;
    const applying = this.applyLoop()
      .catch((err: Error) => {
        this.failed ??= err; // a bug; stop rather than run on in an unknown state
      })
      .finally(() => {
        if (this.current === applying) this.current = undefined;
        if (this.failed) this.options.terminate(this.failed);
        else if (this.desired && this.outOfDate(this.desired)) this.kick(); // arrived as the loop ended
      });
    this.current = applying;
  }

  private outOfDate(desired: Config): boolean {
    return !this.running || planReconfiguration(this.running.config, desired, undefined).action !== 'none';
  }

  /** Brings the running agent to the desired configuration; loops while newer ones arrive. */
  private async applyLoop(): Promise<void> {
    const { log, emit } = this.options;
    for (;;) {
      const next = this.desired;
      if (!next || this.options.isTerminating() || this.failed) return;
      this.refreshEnrollment();
      const running = this.running;
      const plan = planReconfiguration(running?.config, next, this.enrolled?.fingerprint);
      if (plan.action === 'none') return;
      if (plan.action === 'log-level' && running) {
        this.options.applyLogLevel(next.logLevel);
        this.running = { config: next, agent: running.agent };
        log.info({ logLevel: next.logLevel }, 'configuration applied: log level');
        emit({ type: 'log-level', level: next.logLevel });
        continue;
      }
      const enroll = plan.action === 'restart' && plan.enroll;
      if (running) {
        await this.waitForRunningJob(running);
        if (this.desired !== next) {
          running.agent.listener.resumeNewWork(); // a newer configuration arrived: plan again
          continue;
        }
        log.info(
          { changed: plan.action === 'restart' ? plan.changed : [], reenroll: enroll },
          'configuration changed: stopping the agent to start it with the new configuration',
        );
        this.running = undefined;
        this.lastConfig = running.config;
        await running.agent.stop().catch((err: Error) => {
          log.error({ err: err.message }, 'stopping the agent failed');
        });
        continue; // a newer configuration may have arrived while the running job had its grace
      }
      const changed = this.lastConfig ? changedKeys(this.lastConfig, next) : [];
      this.options.applyLogLevel(next.logLevel);
      const abort = new AbortController();
      this.starting = { config: next, abort };
      let agent: RunningAgent;
      try {
        agent = await this.options.startAgent(next, {
          enrollment: enroll ? undefined : this.enrolled?.result,
          signal: abort.signal,
        });
      } catch (err) {
        if (abort.signal.aborted) continue; // superseded (loop takes the newer one) or stopping
        this.failed = err as Error;
        return;
      } finally {
        this.starting = undefined;
      }
      if (abort.signal.aborted) {
        await agent.stop({ graceMs: 0 });
        continue;
      }
      this.running = { config: next, agent };
      this.lastConfig = next;
      this.refreshEnrollment();
      log.info(
        { thingName: next.thingName, jobId: next.jobId, namespaceId: next.namespaceId, changed },
        'listening for job executions',
      );
      emit({ type: 'started', config: next, changed, enrolled: enroll });
      await this.options.onListening();
    }
  }

  /**
   * A restart would cut the running job: wait for it (taking no new work meanwhile), bounded by
   * listen.restartWaitSeconds; stop() or a fatal error ends the wait early.
   */
  private async waitForRunningJob(running: { config: Config; agent: RunningAgent }): Promise<void> {
    const { listener } = running.agent;
    const waitSeconds = running.config.listen.restartWaitSeconds;
    if (!listener.isBusy() || waitSeconds === 0) return;
    const { log } = this.options;
    log.info(
      { restartWaitSeconds: waitSeconds },
      'configuration changed: waiting for the running job to finish before restarting',
    );
    listener.pauseNewWork('a restart for a new configuration waits for the running job');
    this.restartWait = new AbortController();
    try {
      const idle = await listener.whenIdle(waitSeconds * 1000, this.restartWait.signal);
      if (idle) log.info('the running job finished: restarting with the new configuration');
      else if (!this.restartWait.signal.aborted) {
        log.warn(
          { restartWaitSeconds: waitSeconds },
          'the running job outlasted listen.restartWaitSeconds: restarting now (it gets listen.shutdownGraceSeconds)',
        );
      }
    } finally {
      this.restartWait = undefined;
    }
  }

  /** Remembers a successful enrollment (possibly one that succeeded late, after being deferred). */
  private refreshEnrollment(): void {
    const running = this.running;
    if (running?.agent.enrollment) {
      this.enrolled = { fingerprint: enrollFingerprint(running.config), result: running.agent.enrollment };
    }
  }
}
