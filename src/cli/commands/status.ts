// `ggjobs status`: what the journal says about this device's executions of the configured job, and
// which final statuses are still waiting to be sent. Reads only the state directory; safe to run
// while the agent runs.
import type { Command } from 'commander';
import { EXIT } from '../exit-codes.js';
import type { CliIo, CommandResult } from '../main.js';

interface StatusOptions {
  config?: string;
  json?: boolean;
  stateDirectory?: string;
}

export function registerStatus(program: Command, io: CliIo, result: CommandResult): void {
  program
    .command('status')
    .description('show the latest executions and the status outbox, from the journal')
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--state-directory <dir>', 'stateDirectory')
    .option('--json', 'print the report as one JSON object')
    .action(async (options: StatusOptions) => {
      const [{ loadConfig }, { journalDirectory, readJournal }, { buildStatusReport, formatStatusReport }] =
        await Promise.all([
          import('../../config/load.js'),
          import('../../jobs/journal.js'),
          import('../../jobs/status-report.js'),
        ]);
      const config = await loadConfig({
        configFile: options.config,
        flags: { stateDirectory: options.stateDirectory },
      });
      const ids = { thingName: config.thingName, jobId: config.jobId, namespaceId: config.namespaceId };
      const { records, problems } = await readJournal(config.stateDirectory, ids);
      const report = buildStatusReport(ids, journalDirectory(config.stateDirectory, ids), records, problems);
      io.stdout(options.json ? `${JSON.stringify(report)}\n` : formatStatusReport(report));
      result.exitCode = EXIT.ok;
    });
}
