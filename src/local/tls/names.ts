// The TLS directory's location and the names device certificates may take: light (no crypto
// library), so `ggjobs local`'s option declarations can use them without loading the stack.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** An AWS IoT thing name (1-128 of [a-zA-Z0-9:_-]); it names the files, so it cannot escape the directory. */
const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const RESERVED_NAMES = new Set(['ca', 'server']);

/**
 * `$XDG_CACHE_HOME/ggjobs/local-tls`, else `~/.cache/ggjobs/local-tls` (`~/Library/Caches/...` on
 * macOS): the certificates are regenerated when deleted, so they belong in the user's cache.
 */
export function defaultTlsDirectory(
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
  platform: NodeJS.Platform = process.platform,
): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && xdg.startsWith('/')) return join(xdg, 'ggjobs', 'local-tls');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'ggjobs', 'local-tls');
  return join(home, '.cache', 'ggjobs', 'local-tls');
}

/** Why `name` cannot name a device certificate, or undefined when it can. */
export function thingNameProblem(name: string): string | undefined {
  if (!THING_NAME.test(name)) return 'expected a thing name: 1-128 characters of a-z A-Z 0-9 : _ -';
  if (RESERVED_NAMES.has(name))
    return `'${name}' would overwrite the stack's own ${name}.pem; choose another`;
  return undefined;
}
