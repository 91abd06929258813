// The I/O half of `ggjobs sudoers`: resolves the executor configuration into the rule's inputs (real
// directory paths, commands found on the system PATH), refuses directories and commands the component
// user could change (then the rule would be a root shell), and installs the file the way sudo's own
// documentation asks: a temporary file in /etc/sudoers.d (its name holds a ".", so sudo ignores it),
// `visudo -cf` on it, then rename into place. A broken rule therefore never becomes active.
import { execFile } from 'node:child_process';
import { constants, existsSync } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  mkdir,
  readdir,
  realpath,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, isAbsolute as posixIsAbsolute } from 'node:path';
import type { ExecutorConfig } from '../config/schema.js';
import { SudoersError } from '../errors.js';
import { resolveOnPath } from './command-resolution.js';
import { SAFE_PATH } from './environment.js';
import { formatMode } from './handler-resolution.js';
import { defaultAllowedRunAsUsers } from './privilege.js';
import { renderSudoersRule, SudoersInputError, sudoersFileName } from './sudoers.js';
import { SUDOERS_DIRECTORY } from './sudo.js';
import { lookupUser } from './users.js';

export interface RuleRequest {
  executor: ExecutorConfig;
  component: string;
  user: string;
  /** Used when executor.handlerDirectory is not set (the recipe's artifact handlers). */
  defaultHandlerDirectory?: string;
}

export interface BuiltRule {
  fileName: string;
  text: string;
  /** Things left out of the rule, for the operator (a command not installed, ...). */
  warnings: string[];
}

/** Why a path may not appear in a root rule for `user`: it or a parent is writable by someone but root. */
export async function checkRootOnly(kind: string, path: string): Promise<string | undefined> {
  let current = path;
  for (;;) {
    let facts;
    try {
      facts = await stat(current);
    } catch {
      return `${kind} ${path} cannot be checked (${current} is not readable)`;
    }
    const writable = (facts.mode & (constants.S_IWGRP | constants.S_IWOTH)) !== 0;
    const sticky = (facts.mode & 0o1000) !== 0; // S_ISVTX;
    const where = current === path ? '' : ` (its parent ${current})`;
    if (facts.uid !== 0)
      return `${kind} ${path}${where} is owned by uid ${facts.uid}; it must be owned by root`;
    // A sticky parent (like /tmp) is fine: others cannot rename or replace what root owns in it.
    if (writable && (current === path || !sticky))
      return `${kind} ${path}${where} is mode ${formatMode(facts.mode)}; it must not be writable by group or others`;
    if (current === '/') return undefined;
    current = dirname(current);
  }
}

export async function buildRule(request: RuleRequest): Promise<BuiltRule> {
  const { executor } = request;
  const account = await lookupUser(request.user);
  if (!account) throw new SudoersError(`component user "${request.user}" does not exist on this device`);
  const warnings: string[] = [];
  const runAsUsers = executor.allowedRunAsUsers ?? defaultAllowedRunAsUsers(account, true);
  for (const name of runAsUsers)
    if (name !== request.user && !(await lookupUser(name)))
      throw new SudoersError(`executor.allowedRunAsUsers: user "${name}" does not exist on this device`);

  const configured =
    executor.handlerDirectories ??
    [executor.handlerDirectory ?? request.defaultHandlerDirectory].filter((d): d is string => !!d);
  const handlerDirectories: string[] = [];
  for (const dir of configured) {
    let real: string;
    try {
      real = await realpath(dir);
    } catch {
      throw new SudoersError(`handler directory ${dir} does not exist`);
    }
    if (!(await stat(real)).isDirectory())
      throw new SudoersError(`handler directory ${dir} is not a directory`);
    const problem = await checkRootOnly('handler directory', real);
    if (problem)
      throw new SudoersError(`${problem} (else ${request.user} could add files and run them as root)`);
    handlerDirectories.push(real);
  }

  const commands: string[] = [];
  for (const entry of executor.allowedCommands) {
    const found = await resolveOnPath(entry, SAFE_PATH);
    if (!found || !existsSync(found)) {
      warnings.push(`allowed command "${entry}" is not installed; left out of the rule`);
      continue;
    }
    if (!(await stat(found)).isFile()) {
      warnings.push(`allowed command "${entry}" (${found}) is not a file; left out of the rule`);
      continue;
    }
    const problem = await checkRootOnly('allowed command', await realpath(found));
    if (problem) throw new SudoersError(problem);
    commands.push(found);
  }

  try {
    const text = renderSudoersRule({
      component: request.component,
      user: request.user,
      runAsUsers,
      handlerDirectories,
      commands,
    });
    return { fileName: sudoersFileName(request.component), text, warnings };
  } catch (err) {
    if (err instanceof SudoersInputError) throw new SudoersError(err.message);
    throw err;
  }
}

/** `visudo -cf FILE`: undefined when the file parses, else visudo's words. */
export async function validateWithVisudo(file: string): Promise<string | undefined> {
  const visudo = await resolveOnPath('visudo', SAFE_PATH);
  if (!visudo) return 'visudo is not installed';
  return new Promise((resolve) => {
    execFile(visudo, ['-cf', file], { timeout: 30_000, env: { PATH: SAFE_PATH } }, (err, stdout, stderr) => {
      resolve(err ? `${String(stderr).trim() || String(stdout).trim() || err.message}` : undefined);
    });
  });
}

export type ApplyResult =
  | { action: 'installed'; path: string }
  | { action: 'removed' | 'absent'; path: string }
  | { action: 'skipped'; reason: string };

/** Writes the rule into `directory` (default /etc/sudoers.d) only after visudo accepted it. */
export async function installRule(rule: BuiltRule, directory = SUDOERS_DIRECTORY): Promise<ApplyResult> {
  if (!existsSync(directory) || !(await resolveOnPath('visudo', SAFE_PATH)))
    return {
      action: 'skipped',
      reason: `sudo is not installed (no ${directory} or no visudo): steps for other users will fail until it is installed and the component redeployed`,
    };
  const target = join(directory, rule.fileName);
  const temp = join(directory, `.${rule.fileName}.${process.pid}.tmp`);
  await unlink(temp).catch(() => {}); // left by an earlier run that was killed with the same pid
  try {
    await writeFile(temp, rule.text, { mode: 0o440, flag: 'wx' });
    await chmod(temp, 0o440);
    await chown(temp, 0, 0);
    const problem = await validateWithVisudo(temp);
    if (problem)
      throw new SudoersError(`visudo rejected the generated rule, nothing was changed: ${problem}`);
    await rename(temp, target);
  } finally {
    await unlink(temp).catch(() => {});
  }
  return { action: 'installed', path: target };
}

export async function removeRule(
  fileName: string,
  directory = SUDOERS_DIRECTORY,
): Promise<{ action: 'removed' | 'absent'; path: string }> {
  const target = join(directory, fileName);
  try {
    await unlink(target);
    return { action: 'removed', path: target };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { action: 'absent', path: target };
    throw err;
  }
}

/** The posix user that owns `path` (the component's work folder belongs to the component user). */
export async function ownerOf(path: string): Promise<string> {
  const uid = (await stat(path)).uid;
  const passwd = await new Promise<string>((resolve) => {
    execFile('getent', ['passwd', String(uid)], { timeout: 10_000, env: { PATH: SAFE_PATH } }, (err, out) =>
      resolve(err ? '' : String(out)),
    );
  });
  const name = passwd.split(':')[0];
  if (!name) throw new SudoersError(`no user has uid ${uid}, the owner of ${path}`);
  return name;
}

/**
 * Copies the handlers shipped in the component's artifact (`from`) into `to`, owned by root and mode
 * 0755, replacing what was there. The nucleus gives the artifact's files to the component user, so a
 * sudo rule over the artifact folder would let that user run anything as root; the copy is what the
 * rule (and the agent, through GGJOBS_DEFAULT_HANDLER_DIRECTORY) uses instead. Returns the names copied.
 */
export async function installHandlers(from: string, to: string): Promise<string[]> {
  if (!posixIsAbsolute(to)) throw new SudoersError(`handler directory ${to} must be an absolute path`);
  let source: string;
  try {
    source = await realpath(from);
  } catch {
    throw new SudoersError(`handlers to install: ${from} does not exist`);
  }
  const parent = dirname(to);
  await mkdir(parent, { recursive: true, mode: 0o755 });
  const staging = `${to}.new-${process.pid}`;
  const previous = `${to}.old-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o755 });
  const copied: string[] = [];
  try {
    for (const entry of await readdir(source, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const target = join(staging, entry.name);
      await copyFile(join(source, entry.name), target);
      await chown(target, 0, 0);
      await chmod(target, 0o755);
      copied.push(entry.name);
    }
    await chown(staging, 0, 0);
    await chmod(staging, 0o755);
    const hadOne = existsSync(to);
    if (hadOne) await rename(to, previous);
    await rename(staging, to);
    if (hadOne) await rm(previous, { recursive: true, force: true });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return copied.sort();
}
