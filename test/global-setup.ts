import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeSafeBases } from './support/safe-dir.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** True when every src/**.ts has a dist/**.js at least as new as it and as tsconfig.build.json. */
export function distIsCurrent(root: string = ROOT): boolean {
  const src = join(root, 'src');
  const config = statSync(join(root, 'tsconfig.build.json')).mtimeMs;
  return sourceFiles(src).every((file) => {
    const built = join(root, 'dist', relative(src, file)).replace(/\.ts$/, '.js');
    if (!existsSync(built)) return false;
    const builtAt = statSync(built).mtimeMs;
    return builtAt >= statSync(file).mtimeMs && builtAt >= config;
  });
}

// Tests that spawn the `ggjobs` CLI run the compiled dist/, so build it once per test run, unless
// dist/ is already current (a full tsc costs several seconds of a 2-core machine).
// Type errors are `npm run lint`'s business; tsc still emits, so a type error does not stop tests here.
export default function setup(): () => void {
  // Handler directories made under the trusted test base (test/support/safe-dir.ts) go afterwards.
  if (distIsCurrent()) return removeSafeBases;
  const res = spawnSync(
    process.execPath,
    [`${ROOT}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (res.status !== 0)
    process.stderr.write(`global-setup: tsc reported problems:\n${res.stdout}${res.stderr}`);
  return removeSafeBases;
}
