// `ggjobs demo` (= `npm start`): the main job end to end on the embedded local stack. The demo and the
// stack are loaded only when this command runs (and are not in the Greengrass bundle).
import type { Command } from 'commander';
import type { CliIo, CommandResult } from '../main.js';

export function registerDemo(program: Command, io: CliIo, result: CommandResult): void {
  program
    .command('demo')
    .description('run the main job end to end on the embedded local AWS IoT stack (npm start)')
    .option('--keep-running', 'keep the local stack and the agent up afterwards, until SIGINT/SIGTERM')
    .action(async (options: { keepRunning?: boolean }) => {
      const { runDemo } = await import('../demo/run-demo.js');
      result.exitCode = await runDemo(io, options);
    });
}
