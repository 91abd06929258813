// The package's version, read from its package.json (two levels up from src/cli and dist/cli, and
// from the component bundle's dist/cli).
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
