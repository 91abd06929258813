import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { removeSafeBases } from './support/safe-dir.js';

// Tests that spawn the `ggjobs` CLI run the compiled dist/, so build it once per test run.
// Type errors are `npm run lint`'s business; tsc still emits, so a type error does not stop tests here.
export default function setup(): () => void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const res = spawnSync(
    process.execPath,
    [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (res.status !== 0)
    process.stderr.write(`global-setup: tsc reported problems:\n${res.stdout}${res.stderr}`);
  // Handler directories made under the trusted test base (test/support/safe-dir.ts).
  return removeSafeBases;
}
