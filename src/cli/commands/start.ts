// `ggjobs start`: enroll (when enabled), then listen and run executions until SIGTERM/SIGINT, then
// stop gracefully (a running job gets listen.shutdownGraceSeconds, the outbox is flushed) and exit 0.
// The supervisor applies changes of the config file and of the Greengrass component configuration
// while it runs. Exit codes (src/cli/exit-codes.ts, from the error's code): 2 invalid configuration,
// 3 the job cannot take this device's group, 4 AWS unreachable, 1 anything else.
import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import type { CliIo, CommandResult } from '../main.js';

interface StartOptions {
  config?: string;
  thingName?: string;
  jobId?: string;
  namespaceId?: string;
  enroll?: boolean;
}

/** Flags onto config keys; absent flags stay undefined so they override nothing. */
export function startFlagsToConfig(options: StartOptions): Record<string, unknown> {
  return {
    thingName: options.thingName,
    jobId: options.jobId,
    namespaceId: options.namespaceId,
    enroll: options.enroll === false ? { enabled: false } : undefined,
  };
}

export function registerStart(program: Command, _io: CliIo, result: CommandResult): void {
  program
    .command('start')
    .description("enroll, then listen for the job's executions and run them until SIGTERM")
    .option('-c, --config <file>', 'config file (YAML or JSON); edits apply while running')
    .option('--thing-name <name>', 'thingName')
    .option('--job-id <id>', 'jobId')
    .option('--namespace-id <id>', 'namespaceId')
    .option('--no-enroll', 'skip enrollment (enroll.enabled false)')
    .action(async (options: StartOptions) => {
      const { createSupervisor } = await import('../../supervisor/index.js');
      const supervisor = createSupervisor({ configFile: options.config, flags: startFlagsToConfig(options) });
      // Installed before starting: a SIGTERM while enrolling or connecting stops cleanly too.
      const onSignal = (signal: NodeJS.Signals) => {
        supervisor.log.info({ signal }, 'stopping');
        void supervisor.stop();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      // Whatever ends `start` (a clean stop or an error), everything it opened is closed by then.
      result.exitPromptly = true;
      try {
        await supervisor.start();
        // Resolves after a signal's graceful stop; rejects when the agent failed for good.
        await supervisor.finished;
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      supervisor.log.info('stopped');
      result.exitCode = EXIT.ok;
    });
}
