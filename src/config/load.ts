// Loading the configuration: the only I/O in src/config (reading the file and process.env).

import { configFromEnv } from './env.js';
import { readConfigFile } from './file.js';
import { valueAt } from './format-issues.js';
import type { ConfigFor, ConfigPurpose } from './command-schemas.js';
import { type ConfigOrigins, isPlainObject, mergeConfigSourcesWithOrigins } from './merge.js';
import { validateConfigFor } from './validate.js';

export interface LoadConfigOptions<P extends ConfigPurpose = 'start'> {
  /** The command the configuration is for (default start: everything required); see command-schemas.ts. */
  purpose?: P;
  /** `--config FILE`: YAML or JSON. */
  configFile?: string;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Command-line flags already mapped onto config keys (`{ jobId, enroll: { endpoint } }`); undefined = not given. */
  flags?: Record<string, unknown>;
  /** The Greengrass component configuration (an object), when running as a component. */
  greengrass?: Record<string, unknown>;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The merged, not yet validated configuration and which source set each key. */
export interface MergedConfig {
  raw: Record<string, unknown>;
  /** Dotted key path -> `config file F`, `env NAME`, `flag --x`, `Greengrass component configuration`. */
  origins: ConfigOrigins;
}

/** Reads and merges every source (defaults < Greengrass < file < env < flags) without validating. */
export async function mergeConfig(options: LoadConfigOptions<ConfigPurpose> = {}): Promise<MergedConfig> {
  const env = configFromEnv(options.env ?? process.env);
  const file = options.configFile === undefined ? undefined : await readConfigFile(options.configFile);
  const { value, origins } = mergeConfigSourcesWithOrigins(
    {
      defaults: env.defaults,
      greengrass: options.greengrass,
      file,
      env: env.overrides,
      flags: options.flags,
    },
    {
      defaults: (path) => env.origins.get(path),
      file: options.configFile === undefined ? 'config file' : `config file ${options.configFile}`,
      env: (path) => env.origins.get(path),
      // Flags are flat on the command line: name the flag of a leaf, not of the object holding it.
      flags: (path) =>
        isPlainObject(valueAt(options.flags, path.split('.')))
          ? undefined
          : `flag --${kebab(path.split('.').pop() ?? path)}`,
    },
  );
  return { raw: value, origins };
}

/**
 * Merges defaults < Greengrass configuration < config file < GGJOBS_* environment < flags, then validates
 * for `options.purpose` (default start). Throws ConfigFileError (file missing/unreadable/unparseable) or
 * ConfigInvalidError (one line per problem).
 */
export async function loadConfig<P extends ConfigPurpose = 'start'>(
  options: LoadConfigOptions<P> = {},
): Promise<ConfigFor<P>> {
  const { raw, origins } = await mergeConfig(options);
  return validateConfigFor((options.purpose ?? 'start') as P, raw, origins);
}
