// Whether a directory can be trusted to hold code the agent runs: the directory and EVERY ancestor up
// to "/" must be owned by root or the agent's user and not writable by group or others. A writable
// ancestor lets someone rename the directory away and put their own in its place between the check
// and the exec; the sticky bit (as on /tmp) is not enough, because the directory's own name in a
// sticky directory can still be squatted before it is created. The walk is made on the real path
// (symlinks resolved), so a symlinked ancestor is judged by where it really leads.
//
// The file system is asked synchronously, on purpose: these are metadata lookups of a few local
// directories (microseconds each, from the dentry cache), and every step makes about twenty of them.
// Through fs/promises each would be a thread-pool round trip costing about ten times the CPU of the
// lookup itself, which on a small device was a sizeable share of an execution's whole CPU cost.
import { constants, realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';

export interface OwnerMode {
  uid: number;
  mode: number;
}

/** "0755", "1777" */
export function formatMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`.replace(/^0(\d{4})$/, '$1');
}

/** Who may own a trusted file, in words. */
export function trustedOwners(agentUid: number): string {
  return agentUid === 0 ? 'root' : `root or uid ${agentUid} (the user ggjobs runs as)`;
}

/** Why one directory on the way may not be trusted, or undefined. Pure. */
export function checkAncestor(path: string, facts: OwnerMode, agentUid: number): string | undefined {
  if (facts.uid !== 0 && facts.uid !== agentUid)
    return `${path} is owned by uid ${facts.uid}; it must be owned by ${trustedOwners(agentUid)}`;
  const group = (facts.mode & constants.S_IWGRP) !== 0;
  const other = (facts.mode & constants.S_IWOTH) !== 0;
  if (!group && !other) return undefined;
  const who = group && other ? 'group/other' : group ? 'group' : 'other';
  const sticky = (facts.mode & 0o1000) !== 0 ? '; the sticky bit is not enough' : '';
  return `${path} is mode ${formatMode(facts.mode)} (${who} writable${sticky})`;
}

/** "/", "/a", "/a/b" for "/a/b". */
export function ancestorsOf(realPath: string): string[] {
  const parts = realPath.split('/').filter((p) => p !== '');
  const out = ['/'];
  for (let i = 1; i <= parts.length; i++) out.push(`/${parts.slice(0, i).join('/')}`);
  return out;
}

/**
 * Checks `realPath` (already resolved by realpath) and every directory above it. Returns why it may
 * not be trusted, naming the first directory that fails, or undefined.
 */
export function checkTrustedChain(realPath: string, agentUid: number): string | undefined {
  for (const dir of ancestorsOf(realPath)) {
    let facts: OwnerMode;
    try {
      facts = statSync(dir);
    } catch (err) {
      return `${dir} cannot be checked (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
    }
    const problem = checkAncestor(dir, facts, agentUid);
    if (problem) return problem;
  }
  return undefined;
}

/** realpath, or undefined when the path does not resolve. */
export function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

/** Whether `path` is `directory` itself or lies below it (both normalized absolute paths). Pure. */
export function isWithin(path: string, directory: string): boolean {
  const rel = posix.relative(directory, path);
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !posix.isAbsolute(rel));
}
