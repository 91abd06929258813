// createJobRunner: the RunJob the listener calls for each execution. It parses the document (REJECTED
// with a reason when it is malformed, asks for a command this device does not allow, or names a handler
// or download outside the allowlists: see preflight.ts), then runs the
// steps in order: a failing step ends the job as FAILED unless it has ignoreStepFailure, finalStep runs
// only when every step succeeded, and a refused step (unsafe handler, forbidden runAsUser) always ends
// the job. When the context's signal aborts, the running step's whole process group is stopped and
// RunJob rejects with JobAbortedError (code GGJOBS_ERR_JOB_ABORTED) once nothing of it is left alive;
// it returns no outcome then, because the listener decides what an aborted execution reports.
//
// statusDetails produced: reason; step (the last step that ran); failedStep (FAILED only); stdout
// (last 1,024 characters of the last step's, only with includeStdOut); stderr (its last 1,024, when
// not empty); resumedFromStep (when the execution resumed after a restart).
import type { ExecutorConfig } from '../config/schema.js';
import { JobAbortedError } from '../errors.js';
import { hasGreengrassIpc } from '../config/env.js';
import { checkCommandPolicy } from './command-resolution.js';
import { parseJobDocument } from './document/parse.js';
import type { JobPlan, PlannedStep } from './document/schema.js';
import { type DownloadPolicy, downloadDirectoriesOf } from './download-policy.js';
import { defaultHandlerDirectory } from './handler-resolution.js';
import { preflight } from './preflight.js';
import { checkRunAsPolicy, runAsPolicy } from './privilege.js';
import { runStep, type StepResult, type StepRuntime, stepLabel } from './steps.js';
import type { JobContext, JobOutcome, RunJob, StatusDetails, StepStart } from './types.js';
import { currentIdentity, type LookupUser, lookupUser, type UserAccount } from './users.js';

export interface JobRunnerDeps {
  /** Who ggjobs runs as (default: the process's user); lets tests exercise the non-root rules. */
  agent?: UserAccount;
  lookupUser?: LookupUser;
  /** Whether ggjobs runs as a Greengrass component (default: the nucleus' IPC variables are set);
   *  decides the default executor.allowedRunAsUsers. */
  underGreengrass?: boolean;
  /** The agent's LANG (default process.env.LANG); passed on when it is a plain locale name. */
  agentLang?: string;
  fetch?: typeof fetch;
  /** The agent's stateDirectory: the default download directory is <stateDirectory>/downloads. */
  stateDirectory?: string;
  /** Finds sudo (default: on the fixed system PATH); lets tests stand in a recording sudo. */
  findSudo?: () => Promise<string | undefined>;
}

export function createJobRunner(config: ExecutorConfig, deps: JobRunnerDeps = {}): RunJob {
  const agent = deps.agent ?? currentIdentity();
  const handlerDirectory = config.handlerDirectory ?? defaultHandlerDirectory(agent.uid, agent.home);
  const handlerDirectories = config.handlerDirectories ?? [handlerDirectory];
  const download: DownloadPolicy = {
    directories: downloadDirectoriesOf(config.downloadDirectories, deps.stateDirectory ?? 'state'),
    allowFileUrls: config.allowFileUrls,
  };
  const runAs = runAsPolicy(config, agent, deps.underGreengrass ?? hasGreengrassIpc(process.env));
  const runJob = async function runJob(document: unknown, context: JobContext): Promise<JobOutcome> {
    throwIfAborted(context);
    const parsed = parseJobDocument(document);
    if (!parsed.ok) return rejected(context, parsed.reason);
    const policy = checkCommandPolicy(parsed.plan, config.allowedCommands);
    if (!policy.ok) return rejected(context, policy.reason);
    const users = checkRunAsPolicy(parsed.plan, runAs);
    if (!users.ok) return rejected(context, users.reason);
    // Nothing runs unless every step stays inside the allowlists (on a resume too: the device or
    // its configuration may have changed while it was down).
    const allowed = await preflight(parsed.plan, {
      defaultHandlerDirectory: handlerDirectory,
      handlerDirectories,
      download,
      agentUid: agent.uid,
    });
    if (!allowed.ok) return rejected(context, allowed.reason);
    const runtime: StepRuntime = {
      config,
      handlerDirectory,
      handlerDirectories,
      download,
      agent,
      runAs,
      lookupUser: deps.lookupUser ?? lookupUser,
      agentLang: deps.agentLang ?? process.env.LANG,
      fetch: deps.fetch,
      findSudo: deps.findSudo,
      context,
    };
    return runPlan(parsed.plan, runtime, context);
  };
  return Object.assign(runJob, { firstStep });
}

/** The step runPlan starts a fresh run of `document` with (what it passes to onStepStart first). */
export function firstStep(document: unknown): StepStart | undefined {
  const parsed = parseJobDocument(document);
  const step = parsed.ok ? parsed.plan.steps[0] : undefined;
  return step && stepStartOf(step);
}

/** What onStepStart is told of a step (the listener compares it with the step firstStep announced). */
function stepStartOf(step: PlannedStep): StepStart {
  return { index: step.index, name: step.name, resumable: step.resumeAfterReboot };
}

async function runPlan(plan: JobPlan, runtime: StepRuntime, context: JobContext): Promise<JobOutcome> {
  const resumeFrom = Math.max(0, Math.floor(context.resumeFromStep ?? 0)) || 0;
  const ignored: string[] = [];
  let last: { step: PlannedStep; result: StepResult } | undefined;
  let skipped = 0;
  for (const step of plan.steps) {
    const start = stepStartOf(step);
    if (step.index < resumeFrom) {
      skipped++;
      notifyStepEnd(context, { ...start, ok: true, skipped: true, reason: 'completed before the restart' });
      continue;
    }
    throwIfAborted(context, step.name);
    await context.onStepStart(start);
    throwIfAborted(context, step.name);
    // debug: per-step lines stay off the hot path at info ('job finished' says how it ended).
    context.log.debug({ step: step.name, index: step.index, type: step.action.type }, 'step started');
    const result = await runStep(step, runtime);
    notifyStepEnd(context, { ...start, ok: result.ok, reason: result.reason });
    if (result.aborted || context.signal.aborted) throw abortedError(context, step.name);
    last = { step, result };
    if (result.ok) continue;
    context.log.warn({ step: step.name, reason: result.reason }, 'step failed');
    if (step.ignoreStepFailure && !result.refused) {
      ignored.push(result.reason ?? `${stepLabel(step.name)} failed`);
      continue;
    }
    return finish(context, 'FAILED', {
      reason: result.reason ?? `${stepLabel(step.name)} failed`,
      step: step.name,
      failedStep: step.name,
      ...output(result, plan.includeStdOut),
      ...resumed(resumeFrom),
    });
  }

  const ran = plan.steps.length - skipped;
  let reason: string;
  const total = plan.steps.length;
  if (ran === 0)
    reason = `resumed after a restart; ${total === 1 ? 'the step' : `all ${total} steps`} had completed before it`;
  else if (ignored.length > 0)
    reason = `${ran} steps ran; ignored failures (ignoreStepFailure): ${ignored.join('; ')}`;
  else reason = `${ran === 1 ? 'the step' : `all ${ran} steps`} succeeded`;
  const lastName = last?.step.name ?? plan.steps[plan.steps.length - 1]?.name;
  return finish(context, 'SUCCEEDED', {
    reason,
    ...(lastName ? { step: lastName } : {}),
    ...(last ? output(last.result, plan.includeStdOut) : {}),
    ...resumed(resumeFrom),
  });
}

function output(result: StepResult, includeStdOut: boolean): StatusDetails {
  const details: StatusDetails = {};
  if (includeStdOut && result.stdout) details.stdout = result.stdout;
  if (result.stderr) details.stderr = result.stderr;
  return details;
}

function resumed(resumeFrom: number): StatusDetails {
  return resumeFrom > 0 ? { resumedFromStep: String(resumeFrom) } : {};
}

function rejected(context: JobContext, reason: string): JobOutcome {
  context.log.warn({ reason }, 'job document rejected');
  return { status: 'REJECTED', statusDetails: { reason } };
}

function finish(
  context: JobContext,
  status: 'SUCCEEDED' | 'FAILED',
  statusDetails: StatusDetails,
): JobOutcome {
  context.log.info({ status, reason: statusDetails.reason }, 'job finished');
  return { status, statusDetails };
}

/** onStepEnd is progress reporting only: a throwing callback must not change the outcome. */
function notifyStepEnd(context: JobContext, end: Parameters<NonNullable<JobContext['onStepEnd']>>[0]): void {
  try {
    context.onStepEnd?.(end);
  } catch (err) {
    context.log.warn({ err }, 'onStepEnd callback failed');
  }
}

function throwIfAborted(context: JobContext, step?: string): void {
  if (context.signal.aborted) throw abortedError(context, step);
}

function abortedError(context: JobContext, step?: string): JobAbortedError {
  const where = step ? ` during ${stepLabel(step)}` : '';
  return new JobAbortedError(
    `job ${context.jobId} execution ${context.executionNumber} was aborted${where}`,
    step,
    {
      cause: context.signal.reason,
    },
  );
}
