// `ggjobs start`: enroll (when enabled), then listen and run executions until SIGTERM/SIGINT, then
// stop gracefully (a running job gets listen.shutdownGraceSeconds, the outbox is flushed) and exit 0.
import type { Command } from 'commander';
import { startAgent } from '../../agent.js';
import { loadConfig } from '../../config/load.js';
import { createLogger } from '../../log.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo, CommandResult } from '../main.js';

interface StartOptions {
  config?: string;
  thingName?: string;
  jobId?: string;
  namespaceId?: string;
  enroll?: boolean;
}

export function registerStart(program: Command, _io: CliIo, result: CommandResult): void {
  program
    .command('start')
    .description("enroll, then listen for the job's executions and run them until SIGTERM")
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--thing-name <name>', 'thingName')
    .option('--job-id <id>', 'jobId')
    .option('--namespace-id <id>', 'namespaceId')
    .option('--no-enroll', 'skip enrollment (enroll.enabled false)')
    .action(async (options: StartOptions) => {
      const config = await loadConfig({
        configFile: options.config,
        flags: {
          thingName: options.thingName,
          jobId: options.jobId,
          namespaceId: options.namespaceId,
          enroll: options.enroll === false ? { enabled: false } : undefined,
        },
      });
      const log = createLogger({ level: config.logLevel });
      const agent = await startAgent(config, { log });
      log.info(
        { thingName: config.thingName, jobId: config.jobId, namespaceId: config.namespaceId },
        'listening for job executions',
      );
      await new Promise<void>((resolve) => {
        const onSignal = (signal: NodeJS.Signals) => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          log.info({ signal }, 'stopping');
          resolve();
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
      await agent.stop();
      log.info('stopped');
      result.exitCode = EXIT.ok;
    });
}
