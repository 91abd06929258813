// runCommand runs only executables the operator listed in executor.allowedCommands. An entry is a bare
// name (allowed as the document's bare name, found on the step's PATH) or an absolute path (allowed
// as exactly that path, or as its bare name, which then runs that path). An absolute path in the
// document must be listed as such: "/tmp/x/ls" is never allowed by an entry "ls". An empty list
// disables runCommand. The check is made for the whole document before anything runs (REJECTED).
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { JobPlan } from './document/schema.js';

export type CommandDecision = { ok: true; file: string } | { ok: false; reason: string };

/** Which file runs for `exe` (absolute, or a bare name to look up on PATH), or why it may not. Pure. */
export function allowCommand(exe: string, allowedCommands: readonly string[]): CommandDecision {
  if (allowedCommands.length === 0)
    return { ok: false, reason: 'runCommand is disabled on this device (executor.allowedCommands is empty)' };
  const listed = `executor.allowedCommands (${allowedCommands.join(', ')})`.slice(0, 300);
  if (posix.isAbsolute(exe)) {
    const normal = posix.normalize(exe);
    if (allowedCommands.some((a) => posix.isAbsolute(a) && posix.normalize(a) === normal))
      return { ok: true, file: normal };
    return { ok: false, reason: `"${exe}" is not in ${listed}` };
  }
  if (exe.includes('/'))
    return { ok: false, reason: `"${exe}" must be a bare command name or an absolute path` };
  if (allowedCommands.includes(exe)) return { ok: true, file: exe };
  const absolute = allowedCommands.find((a) => posix.isAbsolute(a) && posix.basename(a) === exe);
  if (absolute) return { ok: true, file: posix.normalize(absolute) };
  return { ok: false, reason: `"${exe}" is not in ${listed}` };
}

/** The document-level check: every runCommand step's executable is allowed. Pure. */
export function checkCommandPolicy(
  plan: JobPlan,
  allowedCommands: readonly string[],
): { ok: true } | { ok: false; reason: string } {
  for (const step of plan.steps) {
    if (step.action.type !== 'runCommand') continue;
    const decision = allowCommand(step.action.argv[0] ?? '', allowedCommands);
    if (!decision.ok) {
      const where = step.isFinal ? 'finalStep' : `steps[${step.index}]`;
      return { ok: false, reason: `${where}.action.input.command: ${decision.reason}` };
    }
  }
  return { ok: true };
}

/** Looks a bare name up on `pathValue` as execvp would; absolute paths are returned unchanged. */
export async function resolveOnPath(file: string, pathValue: string): Promise<string | undefined> {
  if (posix.isAbsolute(file)) return file;
  for (const dir of pathValue.split(':')) {
    if (!posix.isAbsolute(dir)) continue; // relative PATH entries would depend on the working directory
    const candidate = join(dir, file);
    try {
      if ((await stat(candidate)).isFile()) {
        await access(candidate, constants.X_OK);
        return candidate;
      }
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}
