// Runs the agent for as long as the process lives and applies configuration changes without a restart
// (README "Live configuration"). Sources: the Greengrass component configuration (GetConfiguration,
// then SubscribeToConfigurationUpdate) when running as a component, and the local config file
// (re-read when it changes). Each change merges every source again (defaults < greengrass < file <
// env < flags) and validates the result with the same schema as at startup: an invalid result is
// refused with one log line and the configuration in force stays; a valid, different one is applied
// by stopping the agent gracefully and starting it again in this process. Applying is serialized and
// the newest configuration wins. Under Greengrass the component state follows: RUNNING once the agent
// listens (again after each reconfiguration), ERRORED when it fails for good.
//
// This file ties the parts together: config-sources.ts (following and merging the sources),
// apply-queue.ts (applying them to the agent), report-state.ts (the component state).
import { type AgentEvent, type RunningAgent, startAgent } from '../agent.js';
import type { Config } from '../config/schema.js';
import { ConfigFileError, ConfigInvalidError, GgjobsError } from '../errors.js';
import type { ComponentState } from '../greengrass/component-state.js';
import { type ComponentUpdateWatch, watchComponentUpdates } from '../greengrass/component-updates.js';
import { createLogger, type Logger } from '../log.js';
import { createGreengrassIpcTransport } from '../transport/greengrass-ipc.js';
import { createTransport } from '../transport/index.js';
import type { Transport } from '../transport/types.js';
import { ApplyQueue, StartAbandoned } from './apply-queue.js';
import { ConfigSources } from './config-sources.js';
import { oneLine, planReconfiguration } from './reconfigure.js';
import { reportStateToNucleus } from './report-state.js';
import type { ConfigSource, Supervisor, SupervisorEvent, SupervisorOptions } from './types.js';

class AgentSupervisor implements Supervisor {
  readonly log: Logger;
  readonly finished: Promise<void>;
  private resolveFinished!: () => void;
  private rejectFinished!: (err: Error) => void;
  private readonly ownsLogger: boolean;
  private readonly sources: ConfigSources;
  private readonly queue: ApplyQueue;
  private loads: Promise<void> = Promise.resolve();
  private terminating: Promise<void> | undefined;
  private componentUpdates: ComponentUpdateWatch | undefined;

  constructor(private readonly options: SupervisorOptions) {
    const env = options.env ?? process.env;
    this.ownsLogger = !options.log;
    this.log = options.log ?? createLogger({ level: 'info' });
    this.finished = new Promise<void>((resolve, reject) => {
      this.resolveFinished = resolve;
      this.rejectFinished = reject;
    });
    this.finished.catch(() => undefined); // callers that only await start() must not see it unhandled
    this.sources = new ConfigSources({
      configFile: options.configFile,
      flags: options.flags,
      env,
      log: this.log,
      configFileDebounceMs: options.configFileDebounceMs,
      onChange: (source) => this.reload(source),
    });
    this.queue = new ApplyQueue({
      log: this.log,
      emit: (event) => this.emit(event),
      applyLogLevel: (level) => this.applyLogLevel(level),
      startAgent: (config, { enrollment, signal }) =>
        startAgent(config, {
          log: this.log,
          runJob: this.options.runJob,
          transport: this.transportFor(config),
          enrollment,
          signal,
          onEvent: (event) => this.onAgentEvent(event),
        }),
      onListening: () => this.reportState('RUNNING'),
      isTerminating: () => this.terminating !== undefined,
      terminate: (failure) => void this.terminate(failure),
    });
  }

  get underGreengrass(): boolean {
    return this.sources.connection !== undefined;
  }

  get config(): Config | undefined {
    return this.queue.config;
  }

  get agent(): RunningAgent | undefined {
    return this.queue.agent;
  }

  async start(): Promise<void> {
    let initial: Config;
    try {
      initial = await this.prepare();
    } catch (err) {
      // stop() during the start (SIGTERM while connecting, say) is not a failure.
      if (this.terminating && !this.queue.failure) return this.terminating;
      await this.terminate(err as Error);
      throw err;
    }
    this.queue.setDesired(initial);
    await this.queue.settled();
    if (this.terminating) await this.terminating;
    if (this.queue.failure) throw this.queue.failure;
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
    await this.sources.open(stopRequested);
    const connection = this.sources.connection;
    if (connection) {
      // Deployments that would restart the component wait for the running job (DeferComponentUpdate).
      this.componentUpdates = await watchComponentUpdates({
        connection,
        log: this.log,
        busy: () => this.queue.agent?.listener.isBusy() ?? false,
        hold: (reason) => this.queue.agent?.listener.pauseNewWork(reason),
        resume: () => this.queue.agent?.listener.resumeNewWork(),
      });
      stopRequested();
    }
    const config = await this.sources.load();
    stopRequested();
    this.applyLogLevel(config.logLevel);
    return config;
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
        next = await this.sources.load();
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
      const target = this.queue.target;
      if (target && planReconfiguration(target, next, undefined).action === 'none') {
        this.log.debug({ source }, 'configuration source changed; effective configuration unchanged');
        this.emit({ type: 'config-unchanged', source });
        return;
      }
      this.emit({ type: 'config-pending', source, config: next });
      this.queue.setDesired(next);
    });
  }

  private transportFor(config: Config): Transport {
    const log = this.log.child({ part: 'transport' });
    const connection = this.sources.connection;
    // As a component, the transport shares the one nucleus connection with the configuration watch.
    if (config.transport.kind === 'greengrass-ipc' && connection) {
      return createGreengrassIpcTransport({ log, connection });
    }
    return createTransport(config.transport, { thingName: config.thingName, log });
  }

  private onAgentEvent(event: AgentEvent): void {
    this.emit({ type: 'agent', event });
    // A deferred enroll that finally got a definitive "no" is as fatal as one at startup.
    if (event.type === 'enroll-failed') void this.terminate(event.error);
  }

  private reportState(state: ComponentState): Promise<void> {
    return reportStateToNucleus(this.sources.connection, state, { log: this.log, emit: (e) => this.emit(e) });
  }

  /** Stops everything, once: after stop() (error undefined) or a fatal error (ERRORED reported). */
  private terminate(error: Error | undefined, graceMs?: number): Promise<void> {
    this.terminating ??= (async () => {
      if (error) {
        this.queue.fail(error);
        this.log.error(
          { code: error instanceof GgjobsError ? error.code : undefined, err: error.message },
          'ggjobs failed; stopping',
        );
        this.emit({ type: 'failed', error });
      }
      this.queue.abandonStart('stopping');
      await this.sources.stopWatching();
      await this.componentUpdates?.close();
      await this.queue.applying;
      await this.loads;
      const agent = this.queue.takeRunning();
      await agent?.stop({ graceMs }).catch((err: Error) => {
        this.log.error({ err: err.message }, 'stopping the agent failed');
      });
      if (error) await this.reportState('ERRORED');
      await this.sources.disconnect();
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
