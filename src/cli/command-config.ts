// The configuration as `ggjobs config check` and `ggjobs doctor` see it: the same sources as
// `ggjobs start` (defaults < Greengrass component configuration < file < env < flags), including the
// component configuration read once over IPC when running under Greengrass, validated for one command.
// Unlike loadConfig it keeps going on invalid configuration: the problems are returned, not thrown.
import type { ConfigFor, ConfigPurpose } from '../config/command-schemas.js';
import { hasGreengrassIpc } from '../config/env.js';
import { readGreengrassConfiguration } from '../config/greengrass.js';
import { mergeConfig } from '../config/load.js';
import type { ConfigOrigins } from '../config/merge.js';
import { configProblems, validateConfigFor } from '../config/validate.js';
import { createGreengrassIpcConnection } from '../greengrass/ipc-connection.js';
import { silentLogger } from '../log.js';
import { agentConfigurationFromComponent } from '../supervisor/reconfigure.js';

export interface CommandConfigOptions {
  configFile?: string;
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Bound on reading the Greengrass component configuration (default 10 s). */
  greengrassTimeoutMs?: number;
}

export interface CommandConfig<P extends ConfigPurpose> {
  /** The validated configuration; undefined when `problems` is not empty. */
  config?: ConfigFor<P>;
  /** One line per problem (`jobId "x y": must be ... (from env GGJOBS_JOB_ID)`). */
  problems: string[];
  origins: ConfigOrigins;
}

/** GetConfiguration over the nucleus IPC socket, when running as a component; undefined otherwise. */
async function greengrassConfiguration(
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<Record<string, unknown> | undefined> {
  if (!hasGreengrassIpc(env)) return undefined;
  const nucleus = createGreengrassIpcConnection({ log: silentLogger(), env, connectTimeoutMs: timeoutMs });
  try {
    await nucleus.connect();
    return agentConfigurationFromComponent(await readGreengrassConfiguration(nucleus.client()));
  } finally {
    await nucleus.close();
  }
}

/**
 * Loads and validates the configuration for `purpose`. Throws ConfigFileError (file missing or
 * unparseable) and the Greengrass IPC errors; invalid values come back as `problems`.
 */
export async function loadCommandConfig<P extends ConfigPurpose>(
  purpose: P,
  options: CommandConfigOptions,
): Promise<CommandConfig<P>> {
  const env = options.env ?? process.env;
  const greengrass = await greengrassConfiguration(env, options.greengrassTimeoutMs ?? 10_000);
  const { raw, origins } = await mergeConfig({ ...options, env, greengrass });
  const problems = configProblems(raw, origins, purpose);
  if (problems.length > 0) return { problems, origins };
  return { config: validateConfigFor(purpose, raw, origins), problems, origins };
}
