// Registers the field technician's commands, `ggjobs config check` and `ggjobs doctor`. Their code is
// imported only when one of them runs (the agent's own commands never load it).
import type { Command } from 'commander';
import type { ConfigPurpose } from '../../config/command-schemas.js';
import { UsageError } from '../../errors.js';
import type { CliIo, CommandResult } from '../main.js';

export interface ConfigCheckOptions {
  config?: string;
  json?: boolean;
  for: string;
}

export interface DoctorOptions {
  config?: string;
  json?: boolean;
  timeout: string;
}

/** The keys of COMMAND_SCHEMAS, spelled out so that registering the command loads no schema (zod). */
const CONFIG_PURPOSES = ['start', 'enroll', 'status'] as const satisfies readonly ConfigPurpose[];
// Fails to compile when COMMAND_SCHEMAS gains a purpose this list lacks.
const allPurposesListed: Exclude<ConfigPurpose, (typeof CONFIG_PURPOSES)[number]> extends never
  ? true
  : never = true;
void allPurposesListed;

function parsePurpose(value: string): ConfigPurpose {
  if ((CONFIG_PURPOSES as readonly string[]).includes(value)) return value as ConfigPurpose;
  throw new UsageError(`--for "${value}": must be one of ${CONFIG_PURPOSES.join(', ')}`);
}

export function registerDiagnostics(program: Command, io: CliIo, result: CommandResult): void {
  const config = program.command('config').description('inspect the configuration');
  config
    .command('check')
    .description(
      'load and validate the configuration as start does, then print every setting with its source',
    )
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--json', 'print the result as one JSON object')
    .option('--for <command>', 'validate for this command: start, enroll or status', 'start')
    .action(async (options: ConfigCheckOptions) => {
      const purpose = parsePurpose(options.for);
      const { runConfigCheck } = await import('../diagnostics/config-check.js');
      result.exitCode = await runConfigCheck({ ...options, purpose }, io);
    });

  program
    .command('doctor')
    .description('check configuration, state directory, handlers, transport and the job; print the fix')
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--json', 'print the checks as one JSON object')
    .option('--timeout <seconds>', 'bound on each network check', '10')
    .action(async (options: DoctorOptions) => {
      const seconds = Number(options.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600)
        throw new UsageError(`--timeout "${options.timeout}": must be a number of seconds from 1 to 600`);
      const { runDoctor } = await import('../diagnostics/doctor.js');
      result.exitCode = await runDoctor(options, io);
    });
}
