// A non-root agent runs a step as another user through sudo, the way the AWS IoT Device Client does:
// `sudo -n -u USER --preserve-env=GGJOBS_... -- FILE ARGS...`. No shell anywhere: sudo execs FILE with
// ARGS verbatim. -n makes sudo fail instead of asking for a password. sudo resets the environment it
// got (the agent's already-scrubbed step environment) to its own safe set (HOME, USER, LOGNAME, PATH
// from secure_path, LANG, ...); only the documented GGJOBS_* variables are asked to be kept, and the
// generated sudoers rule (sudoers.ts) allows exactly those.
//
// Before the step runs, `sudo -n -l -u USER -- FILE ARGS...` asks sudo whether the rule allows it, so a
// missing or narrower rule is reported as such ("sudo does not allow ...") instead of as the exit code
// 1 of a step that never started.
import { execFile } from 'node:child_process';
import { resolveOnPath } from './command-resolution.js';
import { SAFE_PATH } from './environment.js';

/** The step variables kept through sudo (sudoers env_keep in the generated rule, README). */
export const SUDO_PRESERVED_VARIABLES = [
  'GGJOBS_JOB_ID',
  'GGJOBS_EXECUTION_NUMBER',
  'GGJOBS_THING_NAME',
  'GGJOBS_NAMESPACE_ID',
  'GGJOBS_DRY_RUN',
  'GGJOBS_REBOOT_WAIT_SECONDS',
] as const;

/** Where the generated rule lives (`ggjobs sudoers`); named in failure reasons. */
export const SUDOERS_DIRECTORY = '/etc/sudoers.d';

export interface Invocation {
  file: string;
  args: string[];
}

/** The command that runs `file args` as `user` through sudo. Pure. */
export function sudoInvocation(
  sudoPath: string,
  user: string,
  file: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): Invocation {
  const keep = SUDO_PRESERVED_VARIABLES.filter((name) => env[name] !== undefined);
  return {
    file: sudoPath,
    args: [
      '-n',
      '-u',
      user,
      ...(keep.length > 0 ? [`--preserve-env=${keep.join(',')}`] : []),
      '--',
      file,
      ...args,
    ],
  };
}

/** sudo on the fixed system PATH (never the document's or executor.environment's PATH). */
export function findSudo(): Promise<string | undefined> {
  return resolveOnPath('sudo', SAFE_PATH);
}

export type SudoCheck = { ok: true } | { ok: false; detail: string };

/** Asks sudo (without running anything) whether the agent may run `file args` as `user`. */
export function checkSudoAllows(
  sudoPath: string,
  user: string,
  file: string,
  args: readonly string[],
): Promise<SudoCheck> {
  return new Promise((resolve) => {
    execFile(
      sudoPath,
      ['-n', '-l', '-u', user, '--', file, ...args],
      { timeout: 15_000, env: { PATH: SAFE_PATH }, maxBuffer: 64 * 1024 },
      (err, _stdout, stderr) => {
        if (!err) return resolve({ ok: true });
        const said = String(stderr).trim().split('\n').pop()?.slice(0, 200);
        resolve({ ok: false, detail: said || 'the rule does not list it' });
      },
    );
  });
}

/** Why a step that needs sudo cannot run because sudo is not installed, and how to fix it. */
export function sudoMissingReason(label: string, user: string, agentName: string): string {
  return (
    `${label}: runAsUser "${user}" needs sudo (ggjobs runs as "${agentName}"), and sudo is not installed; ` +
    `install it (e.g. apt-get install sudo) and redeploy the component so its Install step writes the rule in ` +
    `${SUDOERS_DIRECTORY} (README "Privilege separation"), or run the component as root`
  );
}

/** Why sudo refused a step, and how to fix it. */
export function sudoRefusedReason(
  label: string,
  user: string,
  file: string,
  agentName: string,
  detail: string,
): string {
  return (
    `${label}: sudo does not allow "${agentName}" to run ${file} as "${user}" (${detail}); ` +
    `the rule in ${SUDOERS_DIRECTORY}/ggjobs-* is missing or older than the configuration: redeploy the component ` +
    `(its Install step regenerates it from executor.allowedRunAsUsers, handlerDirectories and allowedCommands) ` +
    `or run \`ggjobs sudoers --apply\` as root`
  );
}
