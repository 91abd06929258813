// Where a runHandler step's handler lives, and whether it is safe to run. A handler is a plain file
// name inside the handler directory (executor.handlerDirectory for `path: "default"`/absent, else the
// absolute directory the document names). Both the directory and the handler must be owned by the
// agent's user or root and not writable by group/others, and the handler's real path (symlinks
// resolved) must sit directly in the directory's real path: otherwise anyone who can write there
// could make the agent run their code, possibly as root. The process is started from the real path,
// so a symlink swapped after the check does not change what runs.
import { constants } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** "0755" */
export function formatMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`.replace(/^0(\d{4})$/, '$1');
}

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

async function factsOf(path: string): Promise<FileFacts> {
  const s = await stat(path);
  return { mode: s.mode, uid: s.uid, isFile: s.isFile(), isDirectory: s.isDirectory() };
}

export async function resolveHandler(
  directory: string,
  handler: string,
  agentUid: number,
): Promise<HandlerResolution> {
  const badName = checkHandlerName(handler);
  if (badName) return { ok: false, reason: badName };

  let realDirectory: string;
  try {
    realDirectory = await realpath(directory);
  } catch (err) {
    return { ok: false, reason: `handler directory ${directory} cannot be used (${describeFsError(err)})` };
  }
  const directoryProblem = checkOwnershipAndMode(
    'handler directory',
    realDirectory,
    await factsOf(realDirectory),
    agentUid,
  );
  if (directoryProblem) return { ok: false, reason: directoryProblem };

  let file: string;
  try {
    file = await realpath(join(realDirectory, handler));
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
    facts = await factsOf(file);
  } catch (err) {
    return { ok: false, reason: `handler ${file} cannot be used (${describeFsError(err)})` };
  }
  const fileProblem = checkOwnershipAndMode('handler', file, facts, agentUid);
  if (fileProblem) return { ok: false, reason: fileProblem };
  return { ok: true, file };
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
