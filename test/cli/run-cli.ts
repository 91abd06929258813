// Runs the compiled `ggjobs` CLI (bin/ggjobs.js -> dist/, built by the test global setup) as a child
// process, the way a user does.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = `${ROOT}bin/ggjobs.js`;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `ggjobs ...args`; stdout and stderr are collected on the returned object as they arrive. */
export function startCli(args: string[]): {
  child: ChildProcessWithoutNullStreams;
  output: { stdout: string; stderr: string };
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

/** Runs `ggjobs ...args` to completion (killed after `timeoutMs` so a hang cannot stall the suite). */
export async function runCli(args: string[], timeoutMs = 30_000): Promise<CliRun> {
  const { child, output, exited } = startCli(args);
  const bound = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await exited;
  clearTimeout(bound);
  return { code, ...output };
}
