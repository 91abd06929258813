// Runs `ggjobs ...args` in the test process through main() with captured output: the same parsing,
// commands and exit codes as the installed command, without the cost of a child process. Tests that
// need a separate process (signals, stderr of the real binary) use run-cli.ts instead.
import { main } from '../../src/cli/main.js';

export interface InProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function ggjobsInProcess(...args: string[]): Promise<InProcessRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'ggjobs', ...args], {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}
