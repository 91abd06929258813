// `ggjobs status`: what the journal says about this device's executions of the configured job, and
// which final statuses are still waiting to be sent. Reads only the state directory; safe to run
// while the agent runs. Needs only the state directory (flag, env, file or the default `state`):
// without thingName/jobId/namespaceId it reports every job that has a journal there.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { JobIds } from '../../jobs/topics.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo, CommandResult } from '../main.js';

interface StatusOptions {
  config?: string;
  json?: boolean;
  stateDirectory?: string;
}

function completeIds(ids: Partial<JobIds>): JobIds | undefined {
  const { thingName, jobId, namespaceId } = ids;
  return thingName && jobId && namespaceId ? { thingName, jobId, namespaceId } : undefined;
}

export function registerStatus(program: Command, io: CliIo, result: CommandResult): void {
  program
    .command('status')
    .description('show the latest executions and the status outbox, from the journal')
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--state-directory <dir>', 'stateDirectory')
    .option('--json', 'print one JSON object per job (one line each)')
    .action(async (options: StatusOptions) => {
      const [
        { loadConfig },
        { journalDirectory, readJournal },
        { listJournals },
        { buildStatusReport, formatStatusReport },
      ] = await Promise.all([
        import('../../config/load.js'),
        import('../../jobs/journal.js'),
        import('../../jobs/journal-index.js'),
        import('../../jobs/status-report.js'),
      ]);
      const config = await loadConfig({
        purpose: 'status',
        configFile: options.config,
        flags: { stateDirectory: options.stateDirectory },
      });
      const given = { thingName: config.thingName, jobId: config.jobId, namespaceId: config.namespaceId };
      const configured = completeIds(given);
      const jobs = configured ? [configured] : await listJournals(config.stateDirectory, given);
      if (jobs.length === 0) {
        const where = join(resolve(config.stateDirectory), 'executions');
        io.stdout(options.json ? '' : `no executions recorded in ${where}\n`);
        result.exitCode = EXIT.ok;
        return;
      }
      const texts: string[] = [];
      for (const ids of jobs) {
        const { records, problems } = await readJournal(config.stateDirectory, ids);
        const report = buildStatusReport(
          ids,
          journalDirectory(config.stateDirectory, ids),
          records,
          problems,
        );
        texts.push(options.json ? `${JSON.stringify(report)}\n` : formatStatusReport(report));
      }
      io.stdout(texts.join(options.json ? '' : '\n'));
      result.exitCode = EXIT.ok;
    });
}
