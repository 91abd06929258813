// The configuration sources live reconfiguration follows: the Greengrass component configuration
// (GetConfiguration, then SubscribeToConfigurationUpdate) when running as a component, and the local
// config file (re-read when it changes). Every load merges the latest of every source again
// (defaults < greengrass < file < env < flags) and validates it with the same schema as at startup.
import { hasGreengrassIpc } from '../config/env.js';
import { type ConfigFileWatch, watchConfigFile } from '../config/file-watch.js';
import { type GreengrassConfigurationWatch, watchGreengrassConfiguration } from '../config/greengrass.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createGreengrassIpcConnection, type GreengrassIpcConnection } from '../greengrass/ipc-connection.js';
import type { Logger } from '../log.js';
import { agentConfigurationFromComponent } from './reconfigure.js';
import type { ConfigSource } from './types.js';

export interface ConfigSourcesOptions {
  configFile?: string;
  flags?: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  log: Logger;
  configFileDebounceMs?: number;
  /** A followed source changed: load() again to see the effective configuration. */
  onChange: (source: ConfigSource) => void;
}

export class ConfigSources {
  private nucleus: GreengrassIpcConnection | undefined;
  private greengrassWatch: GreengrassConfigurationWatch | undefined;
  private fileWatch: ConfigFileWatch | undefined;
  /** The latest Greengrass configuration (ggjobs keys only), valid or not. */
  private greengrass: Record<string, unknown> | undefined;

  constructor(private readonly options: ConfigSourcesOptions) {}

  /** The nucleus connection when running as a Greengrass component (set as open() starts connecting). */
  get connection(): GreengrassIpcConnection | undefined {
    return this.nucleus;
  }

  /**
   * Connects to the nucleus (as a component) and starts following the sources. `stopRequested`
   * throws when a stop arrived meanwhile; the connection is then left for disconnect() to close.
   */
  async open(stopRequested: () => void): Promise<void> {
    const { env, log, configFile } = this.options;
    if (hasGreengrassIpc(env)) {
      this.nucleus = createGreengrassIpcConnection({ log, env });
      await this.nucleus.connect();
      stopRequested();
      const watch = await watchGreengrassConfiguration({
        client: this.nucleus,
        log,
        onChange: (component) => {
          this.greengrass = agentConfigurationFromComponent(component);
          this.options.onChange('greengrass');
        },
      });
      try {
        stopRequested();
      } catch (err) {
        await watch.close();
        throw err;
      }
      this.greengrassWatch = watch;
      this.greengrass = agentConfigurationFromComponent(watch.initial);
    }
    if (configFile !== undefined) {
      // Watch first: an edit made while the first configuration loads is then seen, not missed.
      this.fileWatch = watchConfigFile(configFile, {
        log,
        debounceMs: this.options.configFileDebounceMs,
        onChange: () => this.options.onChange('file'),
      });
    }
  }

  /** Merges the latest of every source and validates the result (rejects when it is invalid). */
  load(): Promise<Config> {
    return loadConfig({
      configFile: this.options.configFile,
      env: this.options.env,
      flags: this.options.flags,
      greengrass: this.greengrass,
    });
  }

  /** Stops following the sources (the nucleus connection stays open). */
  async stopWatching(): Promise<void> {
    this.fileWatch?.close();
    await this.greengrassWatch?.close();
  }

  async disconnect(): Promise<void> {
    await this.nucleus?.close();
  }
}
