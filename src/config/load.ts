// Loading the configuration: the only I/O in src/config (reading the file and process.env).

import { configFromEnv } from './env.js';
import { readConfigFile } from './file.js';
import { valueAt } from './format-issues.js';
import { isPlainObject, mergeConfigSourcesWithOrigins } from './merge.js';
import type { Config } from './schema.js';
import { validateConfig } from './validate.js';

export interface LoadConfigOptions {
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

/**
 * Merges defaults < Greengrass configuration < config file < GGJOBS_* environment < flags, then validates.
 * Throws ConfigFileError (file missing/unreadable/unparseable) or ConfigInvalidError (one line per problem).
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
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
  return validateConfig(value, origins);
}
