// The sudoers rule that lets the unprivileged component user run job steps as the allowed users, and
// nothing else (README "Privilege separation"). Pure: the inputs are already resolved and checked by
// sudoers-install.ts; this file only decides the text, and refuses input it cannot write safely.
//
// What the rule allows, exactly:
// - as the users in executor.allowedRunAsUsers other than the component user itself (a Runas list, no
//   group switch, no ALL),
// - the files directly in each allowed handler directory (`DIR/*`: sudo's `*` never crosses a "/"),
//   and the absolute paths of executor.allowedCommands, with any arguments (handlers take the
//   document's args),
// - without a password (NOPASSWD; ggjobs calls sudo with -n) and keeping only the GGJOBS_* step
//   variables (env_keep), which ggjobs asks for with --preserve-env.
import { posix } from 'node:path';
import { SUDO_PRESERVED_VARIABLES } from './sudo.js';

export const DEFAULT_COMPONENT_NAME = 'io.ggjobs.JobsAgent';

export interface SudoersRuleInput {
  /** The Greengrass component name (names the file and the aliases). */
  component: string;
  /** The user the agent runs as (the component's posix user). */
  user: string;
  /** executor.allowedRunAsUsers; the component user itself is left out (it needs no sudo). */
  runAsUsers: readonly string[];
  /** Real paths of the allowed handler directories. */
  handlerDirectories: readonly string[];
  /** Absolute paths of the allowed commands. */
  commands: readonly string[];
}

export class SudoersInputError extends Error {}

const USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
/** Paths written unquoted into sudoers: no whitespace, no sudoers syntax (,:=\\"#!), no wildcards. */
const SAFE_PATH_CHARS = /^\/[A-Za-z0-9/_.+@-]*$/;
/** Directories whose `DIR/*` would hand out a root shell or every system tool. */
const TOO_WIDE = new Set([
  '/',
  '/bin',
  '/sbin',
  '/usr/bin',
  '/usr/sbin',
  '/usr/local/bin',
  '/usr/local/sbin',
  '/usr/lib',
  '/usr/libexec',
  '/etc',
  '/tmp',
  '/var/tmp',
  '/dev/shm',
  '/home',
]);

/** Whether `path` (normalized, absolute) is a system directory: as a handler directory it would let a
 *  job document run every tool in it, and `DIR/*` in the sudo rule would hand out far more. */
export function isSystemDirectory(path: string): boolean {
  return TOO_WIDE.has(path);
}

/** `ggjobs-io_ggjobs_JobsAgent`: sudo skips files in sudoers.d whose names contain "." or end in "~". */
export function sudoersFileName(component: string): string {
  return `ggjobs-${component.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** Why `path` cannot go into the rule as a `kind`, or undefined. */
export function checkRulePath(kind: 'handler directory' | 'command', path: string): string | undefined {
  if (!posix.isAbsolute(path)) return `${kind} ${path} must be an absolute path`;
  if (posix.normalize(path) !== path || (path.endsWith('/') && path !== '/'))
    return `${kind} ${path} must be a normalized path (no "..", "." or trailing "/")`;
  if (!SAFE_PATH_CHARS.test(path))
    return `${kind} ${path} contains characters sudoers would treat as syntax or wildcards; use [A-Za-z0-9/_.+@-] only`;
  if (kind === 'handler directory' && isSystemDirectory(path))
    return `handler directory ${path} is a system directory; DIR/* would allow far more than job handlers`;
  return undefined;
}

export function renderSudoersRule(input: SudoersRuleInput): string {
  if (!USER.test(input.user))
    throw new SudoersInputError(`component user "${input.user}" is not a user name`);
  for (const name of input.runAsUsers)
    if (!USER.test(name)) throw new SudoersInputError(`runAsUser "${name}" is not a user name`);
  for (const dir of input.handlerDirectories) {
    const problem = checkRulePath('handler directory', dir);
    if (problem) throw new SudoersInputError(problem);
  }
  for (const command of input.commands) {
    const problem = checkRulePath('command', command);
    if (problem) throw new SudoersInputError(problem);
  }

  const file = sudoersFileName(input.component);
  const runAs = [...new Set(input.runAsUsers)].filter((name) => name !== input.user);
  const alias = `GGJOBS_${input.component.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  const handlers = [...new Set(input.handlerDirectories)].map((dir) => `${dir}/*`);
  const commands = [...new Set(input.commands)];
  const lines = [
    `# /etc/sudoers.d/${file}: written by \`ggjobs sudoers --apply\` (the Install step of the Greengrass`,
    `# component ${input.component}) from executor.allowedRunAsUsers, handlerDirectories and allowedCommands.`,
    '# Regenerated on every deployment of the component; edits by hand are overwritten. Remove it with',
    `# \`sudo rm /etc/sudoers.d/${file}\` or by deploying executor.sudo: false.`,
  ];
  if (runAs.length === 0 || handlers.length + commands.length === 0) {
    lines.push(
      runAs.length === 0
        ? `# executor.allowedRunAsUsers names no user other than ${input.user}: nothing to allow.`
        : '# No handler directory and no allowed command: nothing to allow.',
    );
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    `# ${input.user} may run, as ${runAs.join(' or ')} and without a password, the files directly in the handler`,
    '# directories and the allowed commands below; sudo keeps only the GGJOBS_* step variables.',
    `Defaults:${input.user} !requiretty`,
    `Defaults:${input.user} env_keep += "${SUDO_PRESERVED_VARIABLES.join(' ')}"`,
  );
  const names: string[] = [];
  if (handlers.length > 0) {
    lines.push(`Cmnd_Alias ${alias}_HANDLERS = ${handlers.join(', ')}`);
    names.push(`${alias}_HANDLERS`);
  }
  if (commands.length > 0) {
    lines.push(`Cmnd_Alias ${alias}_COMMANDS = ${commands.join(', ')}`);
    names.push(`${alias}_COMMANDS`);
  }
  lines.push(`${input.user} ALL = (${runAs.join(', ')}) NOPASSWD: ${names.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
