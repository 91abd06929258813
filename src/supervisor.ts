// Runs the agent for as long as the process lives and applies configuration changes without a restart
// (README "Live configuration"). Sources: the Greengrass component configuration (GetConfiguration,
// then SubscribeToConfigurationUpdate) when running as a component, and the local config file
// (re-read when it changes). Each change merges every source again (defaults < greengrass < file <
// env < flags) and validates the result with the same schema as at startup: an invalid result is
// refused with one log line and the configuration in force stays; a valid, different one is applied
// by stopping the agent gracefully and starting it again in this process. Applying is serialized and
// the newest configuration wins. Under Greengrass the component state follows: RUNNING once the agent
// listens (again after each reconfiguration), ERRORED when it fails for good.
import { type AgentEvent, type RunningAgent, startAgent } from './agent.js';
import { hasGreengrassIpc } from './config/env.js';
import { type ConfigFileWatch, watchConfigFile } from './config/file-watch.js';
import { type GreengrassConfigurationWatch, watchGreengrassConfiguration } from './config/greengrass.js';
import { loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import type { EnrollResult } from './enroll/enroll.js';
import { ConfigFileError, ConfigInvalidError, GgjobsError } from './errors.js';
import { type ComponentState, reportComponentState } from './greengrass/component-state.js';
import { createGreengrassIpcConnection, type GreengrassIpcConnection } from './greengrass/ipc-connection.js';
import { createLogger, type Logger } from './log.js';
import {
  agentConfigurationFromComponent,
  changedKeys,
  enrollFingerprint,
  oneLine,
  planReconfiguration,
} from './reconfigure.js';
import type { RunJob } from './run/types.js';
import { createGreengrassIpcTransport } from './transport/greengrass-ipc.js';
import { createTransport } from './transport/index.js';
import type { Transport } from './transport/types.js';

export type ConfigSource = 'greengrass' | 'file';

export type SupervisorEvent =
  | { type: 'agent'; event: AgentEvent }
  /** The agent listens with `config`; `changed` lists the keys that differ from the previous one. */
  | { type: 'started'; config: Config; changed: string[]; enrolled: boolean }
  | { type: 'log-level'; level: string }
  | { type: 'config-unchanged'; source: ConfigSource }
  /** A valid, different configuration was loaded; it is applied next (unless a newer one comes first). */
  | { type: 'config-pending'; source: ConfigSource; config: Config }
  | { type: 'config-refused'; source: ConfigSource; error: Error }
  | { type: 'state-reported'; state: ComponentState }
  | { type: 'failed'; error: Error };

export interface SupervisorOptions {
  /** `--config FILE`: read at start and again whenever its content changes. */
  configFile?: string;
  /** Command-line flags mapped onto config keys (see loadConfig). */
  flags?: Record<string, unknown>;
  /** Default process.env; also decides whether ggjobs runs as a Greengrass component. */
  env?: NodeJS.ProcessEnv;
  /** Default: a logger on stderr whose level follows config.logLevel (given loggers are left as they are). */
  log?: Logger;
  /** Default: the executor for each configuration's `executor` section. */
  runJob?: RunJob;
  onEvent?: (event: SupervisorEvent) => void;
  configFileDebounceMs?: number;
}

export interface Supervisor {
  readonly log: Logger;
  /** The configuration the running agent uses (undefined while none runs, e.g. during a restart). */
  readonly config: Config | undefined;
  readonly agent: RunningAgent | undefined;
  /** Whether the Greengrass nucleus IPC is used (configuration source and component state). */
  readonly underGreengrass: boolean;
  /** Loads the configuration and starts the agent; rejects with the error when that fails (ERRORED reported). */
  start(): Promise<void>;
  /** Graceful stop (also of a start in progress); the running job gets graceMs. Idempotent. */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Resolves after stop(); rejects with the error when the agent failed for good (and has been stopped). */
  readonly finished: Promise<void>;
}

/** The reason an in-progress start is aborted with. */
class StartAbandoned extends Error {}

class AgentSupervisor implements Supervisor {
  readonly log: Logger;
  readonly finished: Promise<void>;
  private resolveFinished!: () => void;
  private rejectFinished!: (err: Error) => void;
  private readonly ownsLogger: boolean;
  private readonly env: NodeJS.ProcessEnv;
  private connection: GreengrassIpcConnection | undefined;
  private greengrassWatch: GreengrassConfigurationWatch | undefined;
  private fileWatch: ConfigFileWatch | undefined;
  /** The latest Greengrass configuration (ggjobs keys only), valid or not. */
  private greengrass: Record<string, unknown> | undefined;
  private loads: Promise<void> = Promise.resolve();
  private desired: Config | undefined;
  private running: { config: Config; agent: RunningAgent } | undefined;
  private starting: { config: Config; abort: AbortController } | undefined;
  private applying: Promise<void> | undefined;
  private enrolled: { fingerprint: string; result: EnrollResult } | undefined;
  /** The configuration of the agent that ran last (what `changed` is relative to). */
  private lastConfig: Config | undefined;
  private failure: Error | undefined;
  private terminating: Promise<void> | undefined;

  constructor(private readonly options: SupervisorOptions) {
    this.env = options.env ?? process.env;
    this.ownsLogger = !options.log;
    this.log = options.log ?? createLogger({ level: 'info' });
    this.finished = new Promise<void>((resolve, reject) => {
      this.resolveFinished = resolve;
      this.rejectFinished = reject;
    });
    this.finished.catch(() => undefined); // callers that only await start() must not see it unhandled
  }

  get underGreengrass(): boolean {
    return this.connection !== undefined;
  }

  get config(): Config | undefined {
    return this.running?.config;
  }

  get agent(): RunningAgent | undefined {
    return this.running?.agent;
  }

  async start(): Promise<void> {
    let initial: Config;
    try {
      initial = await this.prepare();
    } catch (err) {
      // stop() during the start (SIGTERM while connecting, say) is not a failure.
      if (this.terminating && !this.failure) return this.terminating;
      await this.terminate(err as Error);
      throw err;
    }
    this.setDesired(initial);
    while (this.applying) await this.applying;
    if (this.terminating) await this.terminating;
    if (this.failure) throw this.failure;
  }

  stop(options: { graceMs?: number } = {}): Promise<void> {
    return this.terminate(undefined, options.graceMs);
  }

  private emit(event: SupervisorEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch (err) {
      this.log.error({ err: (err as Error).message, event: event.type }, 'supervisor onEvent threw');
    }
  }

  /** Connects to the nucleus (as a component), starts following the sources, loads the first config. */
  private async prepare(): Promise<Config> {
    const stopRequested = () => {
      if (this.terminating) throw new StartAbandoned('stopped while starting');
    };
    if (hasGreengrassIpc(this.env)) {
      this.connection = createGreengrassIpcConnection({ log: this.log, env: this.env });
      await this.connection.connect();
      stopRequested();
      const watch = await watchGreengrassConfiguration({
        client: this.connection,
        log: this.log,
        onChange: (component) => {
          this.greengrass = agentConfigurationFromComponent(component);
          this.reload('greengrass');
        },
      });
      if (this.terminating) await watch.close();
      stopRequested();
      this.greengrassWatch = watch;
      this.greengrass = agentConfigurationFromComponent(watch.initial);
    }
    const { configFile } = this.options;
    if (configFile !== undefined) {
      // Watch first: an edit made while the first configuration loads is then seen, not missed.
      this.fileWatch = watchConfigFile(configFile, {
        log: this.log,
        debounceMs: this.options.configFileDebounceMs,
        onChange: () => this.reload('file'),
      });
    }
    const config = await this.load();
    stopRequested();
    this.applyLogLevel(config.logLevel);
    return config;
  }

  private load(): Promise<Config> {
    return loadConfig({
      configFile: this.options.configFile,
      env: this.env,
      flags: this.options.flags,
      greengrass: this.greengrass,
    });
  }

  private applyLogLevel(level: string): void {
    if (this.ownsLogger) this.log.level = level;
  }

  /** A source changed: merge and validate again (one load at a time, in order), then apply. */
  private reload(source: ConfigSource): void {
    this.loads = this.loads.then(async () => {
      if (this.terminating) return;
      let next: Config;
      try {
        next = await this.load();
      } catch (err) {
        const error = err as Error;
        const what = source === 'file' ? 'config file change' : 'Greengrass configuration update';
        if (err instanceof ConfigInvalidError || err instanceof ConfigFileError) {
          this.log.error(
            { source, code: err.code },
            `${what} refused, the current configuration stays in force: ${oneLine(error.message)}`,
          );
        } else {
          this.log.error({ source, err: error.message }, `${what}: loading the configuration failed`);
        }
        this.emit({ type: 'config-refused', source, error });
        return;
      }
      if (this.terminating) return;
      const target = this.desired ?? this.running?.config;
      if (target && planReconfiguration(target, next, undefined).action === 'none') {
        this.log.debug({ source }, 'configuration source changed; effective configuration unchanged');
        this.emit({ type: 'config-unchanged', source });
        return;
      }
      this.emit({ type: 'config-pending', source, config: next });
      this.setDesired(next);
    });
  }

  private setDesired(next: Config): void {
    this.desired = next;
    // A start still under way is for an older configuration: abandon it (it may be waiting on a
    // broker that the new configuration no longer names).
    // (A log level alone is set once that start is done.)
    if (this.starting && planReconfiguration(this.starting.config, next, undefined).action === 'restart') {
      this.starting.abort.abort(new StartAbandoned('superseded by a newer configuration'));
    }
    this.kick();
  }

  private kick(): void {
    if (this.applying || this.terminating) return;
    const applying = this.applyLoop()
      .catch((err: Error) => {
        this.failure ??= err; // a bug; stop rather than run on in an unknown state
      })
      .finally(() => {
        if (this.applying === applying) this.applying = undefined;
        if (this.failure) void this.terminate(this.failure);
        else if (this.desired && this.outOfDate(this.desired)) this.kick(); // arrived as the loop ended
      });
    this.applying = applying;
  }

  private outOfDate(desired: Config): boolean {
    return !this.running || planReconfiguration(this.running.config, desired, undefined).action !== 'none';
  }

  /** Brings the running agent to the desired configuration; loops while newer ones arrive. */
  private async applyLoop(): Promise<void> {
    for (;;) {
      const next = this.desired;
      if (!next || this.terminating || this.failure) return;
      this.refreshEnrollment();
      const running = this.running;
      const plan = planReconfiguration(running?.config, next, this.enrolled?.fingerprint);
      if (plan.action === 'none') return;
      if (plan.action === 'log-level' && running) {
        this.applyLogLevel(next.logLevel);
        this.running = { config: next, agent: running.agent };
        this.log.info({ logLevel: next.logLevel }, 'configuration applied: log level');
        this.emit({ type: 'log-level', level: next.logLevel });
        continue;
      }
      const enroll = plan.action === 'restart' && plan.enroll;
      if (running) {
        this.log.info(
          { changed: plan.action === 'restart' ? plan.changed : [], reenroll: enroll },
          'configuration changed: stopping the agent to start it with the new configuration',
        );
        this.running = undefined;
        this.lastConfig = running.config;
        await running.agent.stop().catch((err: Error) => {
          this.log.error({ err: err.message }, 'stopping the agent failed');
        });
        continue; // a newer configuration may have arrived while the running job had its grace
      }
      const changed = this.lastConfig ? changedKeys(this.lastConfig, next) : [];
      this.applyLogLevel(next.logLevel);
      const abort = new AbortController();
      this.starting = { config: next, abort };
      let agent: RunningAgent;
      try {
        agent = await startAgent(next, {
          log: this.log,
          runJob: this.options.runJob,
          transport: this.transportFor(next),
          enrollment: enroll ? undefined : this.enrolled?.result,
          signal: abort.signal,
          onEvent: (event) => this.onAgentEvent(event),
        });
      } catch (err) {
        if (abort.signal.aborted) continue; // superseded (loop takes the newer one) or stopping
        this.failure = err as Error;
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
      this.log.info(
        { thingName: next.thingName, jobId: next.jobId, namespaceId: next.namespaceId, changed },
        'listening for job executions',
      );
      this.emit({ type: 'started', config: next, changed, enrolled: enroll });
      await this.reportState('RUNNING');
    }
  }

  /** Remembers a successful enrollment (possibly one that succeeded late, after being deferred). */
  private refreshEnrollment(): void {
    const running = this.running;
    if (running?.agent.enrollment) {
      this.enrolled = { fingerprint: enrollFingerprint(running.config), result: running.agent.enrollment };
    }
  }

  private transportFor(config: Config): Transport {
    const log = this.log.child({ part: 'transport' });
    // As a component, the transport shares the one nucleus connection with the configuration watch.
    if (config.transport.kind === 'greengrass-ipc' && this.connection) {
      return createGreengrassIpcTransport({ log, connection: this.connection });
    }
    return createTransport(config.transport, { thingName: config.thingName, log });
  }

  private onAgentEvent(event: AgentEvent): void {
    this.emit({ type: 'agent', event });
    // A deferred enroll that finally got a definitive "no" is as fatal as one at startup.
    if (event.type === 'enroll-failed') void this.terminate(event.error);
  }

  private async reportState(state: ComponentState): Promise<void> {
    if (!this.connection) return;
    try {
      await reportComponentState(this.connection, state);
      this.emit({ type: 'state-reported', state });
    } catch (err) {
      this.log.warn(
        { state, err: (err as Error).message },
        'greengrass: reporting the component state failed',
      );
    }
  }

  /** Stops everything, once: after stop() (error undefined) or a fatal error (ERRORED reported). */
  private terminate(error: Error | undefined, graceMs?: number): Promise<void> {
    this.terminating ??= (async () => {
      if (error) {
        this.failure = error;
        this.log.error(
          { code: error instanceof GgjobsError ? error.code : undefined, err: error.message },
          'ggjobs failed; stopping',
        );
        this.emit({ type: 'failed', error });
      }
      this.starting?.abort.abort(new StartAbandoned('stopping'));
      this.fileWatch?.close();
      await this.greengrassWatch?.close();
      await this.applying;
      await this.loads;
      const running = this.running;
      this.running = undefined;
      await running?.agent.stop({ graceMs }).catch((err: Error) => {
        this.log.error({ err: err.message }, 'stopping the agent failed');
      });
      if (error) await this.reportState('ERRORED');
      await this.connection?.close();
      if (error) this.rejectFinished(error);
      else this.resolveFinished();
    })();
    return this.terminating;
  }
}

/** A supervisor that has not started yet: call start(), and stop() on SIGTERM (even during start). */
export function createSupervisor(options: SupervisorOptions = {}): Supervisor {
  return new AgentSupervisor(options);
}

/** createSupervisor + start(). */
export async function startSupervisor(options: SupervisorOptions = {}): Promise<Supervisor> {
  const supervisor = createSupervisor(options);
  await supervisor.start();
  return supervisor;
}
