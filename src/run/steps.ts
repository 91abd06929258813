// Runs one planned step and says, in words, how it ended. The decisions about a finished process
// (describeProcessOutcome) are pure; everything else here wires the checks to the I/O modules.
//
// allowStdErr follows the Device Client's documented meaning: when set to N, a step that exits 0 but
// wrote more than N lines to stderr fails. When it is absent, stderr alone never fails a step (what
// the Device Client does in practice; apt and friends print warnings there). A non-zero exit always
// fails the step, whatever allowStdErr says.
import { statSync } from 'node:fs';
import type { ExecutorConfig } from '../config/schema.js';
import { allowCommand, resolveOnPath } from './command-resolution.js';
import type { PlannedStep } from './document/schema.js';
import { downloadFile } from './download.js';
import {
  checkDestination,
  checkDownloadUrl,
  type DownloadPolicy,
  ensureDownloadDirectory,
} from './download-policy.js';
import { buildChildEnvironment } from './environment.js';
import { describeFsError, resolveHandler } from './handler-resolution.js';
import { effectiveRunAsUser, type RunAsPolicy } from './privilege.js';
import { type ProcessResult, runProcess } from './spawn.js';
import { checkSudoAllows, findSudo, sudoMissingReason, sudoRefusedReason } from './sudo.js';
import type { JobContext } from './types.js';
import { type LookupUser, resolveRunUser, type UserAccount } from './users.js';

export interface StepRuntime {
  config: ExecutorConfig;
  /** executor.handlerDirectory or its default. */
  handlerDirectory: string;
  /** executor.handlerDirectories or [handlerDirectory]. */
  handlerDirectories: readonly string[];
  download: DownloadPolicy;
  agent: UserAccount;
  /** executor.allowedRunAsUsers / defaultRunAsUser / sudo with their defaults applied. */
  runAs: RunAsPolicy;
  lookupUser: LookupUser;
  agentLang?: string;
  fetch?: typeof fetch;
  findSudo?: () => Promise<string | undefined>;
  context: JobContext;
}

export interface StepResult {
  ok: boolean;
  reason?: string;
  /** Refused before anything ran (unsafe handler, forbidden user): ends the job even with ignoreStepFailure. */
  refused?: boolean;
  aborted?: boolean;
  stdout: string;
  stderr: string;
}

/** `step "Install"` (long names shortened so reasons stay readable). */
export function stepLabel(name: string): string {
  return `step ${JSON.stringify(name.length > 64 ? `${name.slice(0, 61)}...` : name)}`;
}

export function describeProcessOutcome(
  step: Pick<PlannedStep, 'name' | 'allowStdErr'>,
  result: ProcessResult,
  file: string,
  timeoutSeconds: number,
): { ok: boolean; reason?: string } {
  const label = stepLabel(step.name);
  if (result.startError)
    return { ok: false, reason: `${label} could not start ${file}: ${describeFsError(result.startError)}` };
  if (result.timedOut) return { ok: false, reason: `${label} timed out after ${timeoutSeconds}s` };
  if (result.signal) return { ok: false, reason: `${label} was killed by signal ${result.signal}` };
  if (result.exitCode !== 0) return { ok: false, reason: `${label} exited with code ${result.exitCode}` };
  if (step.allowStdErr !== undefined && result.stderrLines > step.allowStdErr)
    return {
      ok: false,
      reason: `${label} wrote ${result.stderrLines} line${result.stderrLines === 1 ? '' : 's'} to stderr; allowStdErr is ${step.allowStdErr}`,
    };
  return { ok: true };
}

export async function runStep(step: PlannedStep, rt: StepRuntime): Promise<StepResult> {
  const label = stepLabel(step.name);
  const refuse = (reason: string): StepResult => ({
    ok: false,
    refused: true,
    reason,
    stdout: '',
    stderr: '',
  });
  const timeoutSeconds = step.timeoutSeconds ?? rt.config.defaultStepTimeoutSeconds;

  // Re-checked here so a runner used without the document-level check cannot run as anyone else.
  const runAs = effectiveRunAsUser(step.runAsUser, rt.runAs);
  if (!rt.runAs.allowed.includes(runAs))
    return refuse(
      `${label}: runAsUser "${runAs}" is not in executor.allowedRunAsUsers (${rt.runAs.allowed.join(', ')})`,
    );
  const needsLookup = runAs !== rt.agent.name;
  const account = needsLookup ? await rt.lookupUser(runAs) : undefined;
  const user = resolveRunUser(runAs, rt.agent, account, step.name, rt.runAs.sudo);
  if (!user.ok) return refuse(user.reason);

  const action = step.action;
  if (action.type === 'download') {
    if (user.sudoAs)
      return refuse(
        `${label}: a download step cannot write a file as runAsUser "${runAs}" when ggjobs runs as "${rt.agent.name}"; ` +
          'leave runAsUser empty or use the download-file.sh handler (it runs through sudo)',
      );
    // Checked again right before writing: the preflight ran before the earlier steps.
    const urlProblem = checkDownloadUrl(action.url, rt.download);
    if (urlProblem) return refuse(`${label}: ${urlProblem}`);
    const confined = await checkDestination(action.destination, rt.download);
    if (!confined.ok) return refuse(`${label}: ${confined.reason}`);
    try {
      await ensureDownloadDirectory(confined.directory);
    } catch (err) {
      const reason = `${label}: download directory ${confined.directory} cannot be created (${describeFsError(err)})`;
      return { ok: false, reason, stdout: '', stderr: '' };
    }
    const result = await downloadFile({
      url: action.url,
      sha256: action.sha256,
      destination: action.destination,
      maxBytes: rt.config.maxDownloadBytes,
      timeoutMs: timeoutSeconds * 1000,
      signal: rt.context.signal,
      runAs: user.switchTo,
      fetch: rt.fetch,
    });
    if (result.ok) return { ok: true, stdout: '', stderr: '' };
    return {
      ok: false,
      aborted: result.aborted,
      reason: result.timedOut ? `${label} timed out after ${timeoutSeconds}s` : `${label}: ${result.reason}`,
      stdout: '',
      stderr: '',
    };
  }

  const env = buildChildEnvironment({
    user: user.account,
    job: rt.context,
    agentLang: rt.agentLang,
    extra: rt.config.environment,
  });
  let file: string;
  let args: string[];
  if (action.type === 'runHandler') {
    const resolved = resolveHandler({
      handler: action.handler,
      requestedDirectory: action.directory,
      defaultDirectory: rt.handlerDirectory,
      allowedDirectories: rt.handlerDirectories,
      agentUid: rt.agent.uid,
    });
    if (!resolved.ok) return refuse(`${label}: ${resolved.reason}`);
    file = resolved.file;
    // Device Client convention: runAsUser is always the first argument, even when empty.
    args = [step.runAsUser, ...action.args];
  } else {
    // Re-checked here so a runner used without the document-level check cannot run anything unlisted.
    const decision = allowCommand(action.argv[0] ?? '', rt.config.allowedCommands);
    if (!decision.ok) return refuse(`${label}: ${decision.reason}`);
    const found = await resolveOnPath(decision.file, env.PATH ?? '');
    if (!found)
      return {
        ok: false,
        reason: `${label}: command "${decision.file}" not found on PATH`,
        stdout: '',
        stderr: '',
      };
    file = found;
    args = action.argv.slice(1);
  }

  let sudo: { path: string; user: string } | undefined;
  if (user.sudoAs) {
    const path = await (rt.findSudo ?? findSudo)();
    if (!path) return refuse(sudoMissingReason(label, user.sudoAs, rt.agent.name));
    const allowed = await checkSudoAllows(path, user.sudoAs, file, args);
    if (!allowed.ok)
      return refuse(sudoRefusedReason(label, user.sudoAs, file, rt.agent.name, allowed.detail));
    sudo = { path, user: user.sudoAs };
  }

  rt.context.log.debug(
    { step: step.name, index: step.index, file, user: user.account.name, sudo: sudo !== undefined },
    'step process starting',
  );
  const result = await runProcess({
    file,
    args,
    env,
    // Through sudo the agent itself must be able to enter the directory (root's home is 0700), and
    // sudo keeps it: such steps start in "/".
    cwd: sudo ? '/' : workingDirectory(user.account.home),
    uid: user.switchTo?.uid,
    gid: user.switchTo?.gid,
    sudo,
    timeoutMs: timeoutSeconds * 1000,
    killGraceMs: rt.config.killGraceSeconds * 1000,
    signal: rt.context.signal,
    ...(rt.context.onProgress ? { onProgress: (text: string) => rt.context.onProgress?.(text) } : {}),
  });
  if (result.aborted)
    return {
      ok: false,
      aborted: true,
      reason: `${label} was aborted`,
      stdout: result.stdout,
      stderr: result.stderr,
    };
  const outcome = describeProcessOutcome(step, result, file, timeoutSeconds);
  let reason = outcome.reason;
  if (reason && user.switchTo && result.startError?.code === 'EACCES')
    reason += ` (runAsUser "${step.runAsUser}" must be able to read and execute it)`;
  // sudo itself refused after the -l check passed (e.g. a rule without the GGJOBS_* env_keep).
  const sudoSaid =
    sudo && result.exitCode === 1 ? /^sudo: .*/.exec(result.stderr.trimStart())?.[0] : undefined;
  if (sudo && sudoSaid)
    reason = sudoRefusedReason(label, sudo.user, file, rt.agent.name, sudoSaid.slice(0, 200));
  return { ok: outcome.ok, reason, stdout: result.stdout, stderr: result.stderr };
}

/** The run user's home when it exists, else "/" (nobody's home is often /nonexistent). Synchronous: see trusted-path.ts. */
function workingDirectory(home: string): string {
  try {
    if (statSync(home).isDirectory()) return home;
  } catch {
    // fall through
  }
  return '/';
}
