// The supervisor's public contract: its options, the events it reports and the handle it returns.
import type { AgentEvent, RunningAgent } from '../agent.js';
import type { Config } from '../config/schema.js';
import type { ComponentState } from '../greengrass/component-state.js';
import type { Logger } from '../log.js';
import type { RunJob } from '../run/types.js';

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
