// The process entry point of `ggjobs` (bin/ggjobs.js, and the component bundle's ggjobs.mjs).
// `ggjobs --version` is answered here, before the command parser is loaded: commander brings in
// node:child_process with net and streams, which costs more than the rest of a bare start-up
// (measured with bench/resources.mjs). Everything else, --version with other arguments included,
// goes through main.ts and commander as before.
import { packageVersion } from './version.js';

const VERSION_FLAGS = new Set(['--version', '-V']);

export async function run(argv: string[]): Promise<void> {
  const args = argv.slice(2);
  if (args.length === 1 && VERSION_FLAGS.has(args[0]!)) {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  const { runFromProcess } = await import('./main.js');
  await runFromProcess(argv);
}
