// Where a runHandler step's handler lives, and whether it is safe to run. A handler is a plain file
// name inside a handler directory: executor.handlerDirectory for `path: "default"`/""/absent, else the
// absolute directory the document names, which must be listed in executor.handlerDirectories (an
// allowlist: "/usr/bin" is root-owned and not writable, yet a document must not run whatever is in it).
// The directory and every ancestor up to "/" must be owned by the agent's user or root and not
// writable by group/others (trusted-path.ts), the handler likewise, and the handler's real path
// (symlinks resolved) must sit directly in the directory's real path: otherwise anyone who can write
// there could make the agent run their code, possibly as root. The process is started from the real
// path, so a symlink swapped after the check does not change what runs.
// The file system is asked synchronously, for the reason trusted-path.ts gives.
import { constants, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkTrustedChain, formatMode, realpathOrUndefined } from './trusted-path.js';

export type HandlerResolution = { ok: true; file: string } | { ok: false; reason: string };

export interface FileFacts {
  mode: number;
  uid: number;
  isFile: boolean;
  isDirectory: boolean;
}

/**
 * The default handler directory when executor.handlerDirectory is not set: /etc/ggjobs/handlers for
 * root (a system location only root can write), ~/.ggjobs/handlers for anyone else.
 */
export function defaultHandlerDirectory(
  uid: number = process.getuid?.() ?? -1,
  home: string = homedir(),
): string {
  return uid === 0 ? '/etc/ggjobs/handlers' : join(home, '.ggjobs', 'handlers');
}

/** The sample handlers shipped in this package's handlers/ folder (same place from src/ and dist/). */
export function bundledHandlerDirectory(): string {
  return fileURLToPath(new URL('../../handlers', import.meta.url));
}

export { formatMode } from './trusted-path.js';

/** Why a handler name cannot be used, or undefined. Pure: the document's value alone decides. */
export function checkHandlerName(handler: string): string | undefined {
  if (posix.isAbsolute(handler))
    return `handler "${handler}" is an absolute path; name a file inside the handler directory`;
  if (handler.includes('/') || handler === '..' || handler === '.')
    return `handler "${handler}" must be a file name inside the handler directory (no "/" or "..")`;
  return undefined;
}

/** Why a file or directory may not be trusted, or undefined. Pure, so every rule is directly testable. */
export function checkOwnershipAndMode(
  kind: 'handler' | 'handler directory',
  path: string,
  facts: FileFacts,
  agentUid: number,
): string | undefined {
  if (kind === 'handler directory' && !facts.isDirectory)
    return `handler directory ${path} is not a directory`;
  if (kind === 'handler' && !facts.isFile) return `handler ${path} is not a regular file`;
  if (facts.uid !== agentUid && facts.uid !== 0) {
    const owners = agentUid === 0 ? 'root' : `uid ${agentUid} (the user ggjobs runs as) or root`;
    return `${kind} ${path} is owned by uid ${facts.uid}; must be owned by ${owners}`;
  }
  const groupWritable = (facts.mode & constants.S_IWGRP) !== 0;
  const otherWritable = (facts.mode & constants.S_IWOTH) !== 0;
  if (groupWritable || otherWritable) {
    const who = groupWritable && otherWritable ? 'group/other' : groupWritable ? 'group' : 'other';
    return `${kind} ${path} is mode ${formatMode(facts.mode)} (${who} writable); must be 0755 or stricter`;
  }
  if (kind === 'handler' && (facts.mode & constants.S_IXUSR) === 0)
    return `handler ${path} is not executable (mode ${formatMode(facts.mode)}); make it 0700 or 0755`;
  return undefined;
}

function factsOf(path: string): FileFacts {
  const s = statSync(path);
  return { mode: s.mode, uid: s.uid, isFile: s.isFile(), isDirectory: s.isDirectory() };
}

export interface HandlerRequest {
  handler: string;
  /** The document's `path`; undefined = the default handler directory. */
  requestedDirectory?: string;
  /** executor.handlerDirectory or its default. */
  defaultDirectory: string;
  /** executor.handlerDirectories (the default directory is always allowed too). */
  allowedDirectories: readonly string[];
  agentUid: number;
}

/** `executor.handlerDirectories (/a, /b)`, bounded so a reason stays readable. */
export function describeAllowed(allowed: readonly string[]): string {
  return `executor.handlerDirectories (${allowed.join(', ')})`.slice(0, 400);
}

/**
 * Decides which file a runHandler step runs, or why none may: the name is a plain file name, the
 * directory is the default one or listed in executor.handlerDirectories (compared after realpath),
 * the directory and every ancestor pass checkTrustedChain, and the handler (symlinks resolved) sits
 * directly in the directory and passes checkOwnershipAndMode.
 */
export function resolveHandler(req: HandlerRequest): HandlerResolution {
  const { handler, agentUid } = req;
  const badName = checkHandlerName(handler);
  if (badName) return { ok: false, reason: badName };

  const directory = req.requestedDirectory ?? req.defaultDirectory;
  const allowed = [...new Set([req.defaultDirectory, ...req.allowedDirectories])];
  if (req.requestedDirectory !== undefined) {
    const listed = isListed(req.requestedDirectory, allowed);
    if (!listed)
      return {
        ok: false,
        reason: `handler directory ${JSON.stringify(req.requestedDirectory)} is not in ${describeAllowed(allowed)}`,
      };
  }

  let realDirectory: string;
  try {
    realDirectory = realpathSync.native(directory);
  } catch (err) {
    return { ok: false, reason: `handler directory ${directory} cannot be used (${describeFsError(err)})` };
  }
  const directoryProblem = checkOwnershipAndMode(
    'handler directory',
    realDirectory,
    factsOf(realDirectory),
    agentUid,
  );
  if (directoryProblem) return { ok: false, reason: directoryProblem };
  const chainProblem = checkTrustedChain(realDirectory, agentUid);
  if (chainProblem)
    return { ok: false, reason: `handler directory ${realDirectory} is not safe: ${chainProblem}` };

  let file: string;
  try {
    file = realpathSync.native(join(realDirectory, handler));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      ok: false,
      reason:
        code === 'ENOENT'
          ? `handler "${handler}" not found in ${realDirectory}`
          : `handler "${handler}" in ${realDirectory} cannot be used (${describeFsError(err)})`,
    };
  }
  if (dirname(file) !== realDirectory)
    return {
      ok: false,
      reason: `handler "${handler}" resolves to ${file}, outside the handler directory ${realDirectory}`,
    };
  let facts: FileFacts;
  try {
    facts = factsOf(file);
  } catch (err) {
    return { ok: false, reason: `handler ${file} cannot be used (${describeFsError(err)})` };
  }
  const fileProblem = checkOwnershipAndMode('handler', file, facts, agentUid);
  if (fileProblem) return { ok: false, reason: fileProblem };
  return { ok: true, file };
}

/** Whether `requested` is one of `allowed`: same text, or the same directory after realpath. */
function isListed(requested: string, allowed: readonly string[]): boolean {
  const normal = posix.normalize(requested).replace(/(.)\/+$/, '$1');
  if (allowed.some((a) => posix.normalize(a).replace(/(.)\/+$/, '$1') === normal)) return true;
  const real = realpathOrUndefined(requested);
  if (real === undefined) return false;
  for (const a of allowed) if (realpathOrUndefined(a) === real) return true;
  return false;
}

export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    ENOENT: 'does not exist',
    EACCES: 'permission denied',
    ENOTDIR: 'not a directory',
    ELOOP: 'too many symbolic links',
  };
  return e?.code ? (words[e.code] ?? e.code) : String(err);
}
