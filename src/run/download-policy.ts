// Where a download step may write and what it may read. A job document comes from the cloud and the
// agent often runs as root, so without limits a download step could overwrite any file (`/etc/...`)
// or copy any readable file (`file:///etc/shadow`) somewhere world-readable. The rules:
// - the destination must lie inside one of executor.downloadDirectories (default
//   <stateDirectory>/downloads), checked on the path as written AND on the real path of its deepest
//   existing directory, so `..` or a symlink inside a download directory cannot lead out;
// - file: URLs only with executor.allowFileUrls: true;
// - redirects (download.ts) at most MAX_REDIRECTS, never https -> http, never to another scheme.
import { mkdir } from 'node:fs/promises';
import { dirname, posix, resolve } from 'node:path';
import { isWithin, realpathOrUndefined } from './trusted-path.js';

export const MAX_REDIRECTS = 5;

export interface DownloadPolicy {
  /** Absolute, as configured. */
  directories: readonly string[];
  allowFileUrls: boolean;
}

/** The configured directories, or [<stateDirectory>/downloads]. */
export function downloadDirectoriesOf(
  configured: readonly string[] | undefined,
  stateDirectory: string,
): string[] {
  return configured && configured.length > 0 ? [...configured] : [resolve(stateDirectory, 'downloads')];
}

function listed(policy: DownloadPolicy): string {
  return `executor.downloadDirectories (${policy.directories.join(', ')})`.slice(0, 400);
}

/** Why the URL may not be fetched, or undefined. Pure. */
export function checkDownloadUrl(url: string, policy: DownloadPolicy): string | undefined {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    return 'url is not a valid URL';
  }
  if (protocol === 'file:' && !policy.allowFileUrls)
    return 'file: URLs are refused on this device (executor.allowFileUrls is false)';
  if (!['http:', 'https:', 'file:'].includes(protocol)) return `url scheme ${protocol} is not allowed`;
  return undefined;
}

/** The download directory the destination lies in (by its text), or why none. Pure. */
export function checkDestinationText(
  destination: string,
  policy: DownloadPolicy,
): { ok: true; directory: string } | { ok: false; reason: string } {
  const normal = posix.normalize(destination);
  if (!posix.isAbsolute(normal)) return { ok: false, reason: `destination ${destination} is not absolute` };
  for (const directory of policy.directories) {
    const dir = posix.normalize(directory).replace(/(.)\/+$/, '$1');
    if (normal !== dir && isWithin(normal, dir)) return { ok: true, directory: dir };
  }
  return { ok: false, reason: `destination ${destination} is outside ${listed(policy)}` };
}

/**
 * The full check before writing: the text check, then the real path of the deepest directory of the
 * destination that already exists must still be inside the (real) download directory.
 */
export async function checkDestination(
  destination: string,
  policy: DownloadPolicy,
): Promise<{ ok: true; directory: string } | { ok: false; reason: string }> {
  const text = checkDestinationText(destination, policy);
  if (!text.ok) return text;
  const realDirectory = realpathOrUndefined(text.directory) ?? text.directory;
  let probe = dirname(posix.normalize(destination));
  while (probe !== '/' && isWithin(probe, text.directory)) {
    const real = realpathOrUndefined(probe);
    if (real !== undefined) {
      if (!isWithin(real, realDirectory))
        return {
          ok: false,
          reason: `destination ${destination} leads to ${real}, outside ${listed(policy)}`,
        };
      break;
    }
    probe = dirname(probe);
  }
  return text;
}

/** Creates a download directory that does not exist yet, readable by its owner only. */
export async function ensureDownloadDirectory(directory: string): Promise<void> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
}
