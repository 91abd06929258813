// `ggjobs enroll`: make this device's thing group a target of the configured job, once, and exit
// 0 (associated / already associated), 2 (invalid config), 3 (job not usable) or 4 (AWS unreachable
// or still throttled). Exit codes come from src/cli/exit-codes.ts via the error's code.
import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import type { CliIo, CommandResult } from '../main.js';

interface EnrollOptions {
  config?: string;
  json?: boolean;
  thingName?: string;
  jobId?: string;
  namespaceId?: string;
  endpoint?: string;
}

/** Flags onto config keys; absent flags stay undefined so they override nothing. */
export function enrollFlagsToConfig(options: EnrollOptions): Record<string, unknown> {
  return {
    thingName: options.thingName,
    jobId: options.jobId,
    namespaceId: options.namespaceId,
    enroll: { endpoint: options.endpoint },
  };
}

export function registerEnroll(program: Command, io: CliIo, result: CommandResult): void {
  program
    .command('enroll')
    .description("make this device's thing group a target of the continuous, namespaced job, then exit")
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--json', 'print the outcome as one JSON line on stdout')
    .option('--thing-name <name>', 'thingName')
    .option('--job-id <id>', 'jobId')
    .option('--namespace-id <id>', 'namespaceId')
    .option('--endpoint <url>', 'enroll.endpoint: AWS IoT control-plane endpoint override')
    .action(async (options: EnrollOptions) => {
      const [{ loadConfig }, { enroll }, { createLogger }] = await Promise.all([
        import('../../config/load.js'),
        import('../../enroll/enroll.js'),
        import('../../log.js'),
      ]);
      const config = await loadConfig({
        purpose: 'enroll',
        configFile: options.config,
        flags: enrollFlagsToConfig(options),
      });
      const log = createLogger({ level: config.logLevel });
      // An explicit enroll always asks the control plane and leaves the state directory to the agent.
      const outcome = await enroll(config, { log, stateDirectory: false });
      if (options.json) {
        io.stdout(
          `${JSON.stringify({ result: outcome.result, jobArn: outcome.jobArn, thingGroupArn: outcome.thingGroupArn })}\n`,
        );
      } else {
        const what =
          outcome.result === 'associated'
            ? 'associated: thing group is now a target of'
            : 'already associated: thing group was already a target of';
        io.stdout(
          `${what} job ${outcome.jobArn} (namespace ${config.namespaceId})\n  thing group: ${outcome.thingGroupArn}\n`,
        );
      }
      result.exitCode = EXIT.ok;
    });
}
