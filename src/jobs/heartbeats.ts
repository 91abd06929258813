// Progress heartbeats: while a step runs, an IN_PROGRESS update every `listen.progressIntervalSeconds`
// whose statusDetails say where the job is (step, stepIndex, stepCount, elapsedSeconds and the last
// `::progress` text the handler printed) and whose stepTimeoutInMinutes renews the service's step
// timer (what is left of the step's timeout plus the margin, step-timer.ts). A step that the timer
// last asked for does not cover (a longer one, or the first after a restart) renews it as it starts,
// heartbeats on or off.
//
// Heartbeats are fire-and-forget and live outside decide(): never more than one in flight per
// execution, none once the step ended, and without expectedVersion, so they cannot make the final
// status wait. An accepted one tells decide() the new versionNumber (a `described` IN_PROGRESS event,
// which only moves the version forward) so the final status carries the right expectedVersion; a
// refused one whose executionState is terminal tells decide() the execution is over (TIMED_OUT,
// CANCELED, REMOVED), which aborts the step. statusDetails the claim carried are kept (read back once
// per run) so heartbeats never erase them.
import type { Config } from '../config/schema.js';
import { JobsRequestRejectedError } from '../errors.js';
import type { Logger } from '../log.js';
import type { StepStart } from '../run/types.js';
import type { ExecutionState } from './execution.js';
import type { JobsClient } from './jobs-client.js';
import type { Dispatch } from './listener-types.js';
import { GONE_CODES } from './execution.js';
import { TERMINAL_STATUSES } from './payloads.js';
import { MAX_DETAIL_PAIRS, sanitizeStatusDetails, sanitizeValue } from './sanitize.js';
import { type StepPlan, stepPlan, stepTimeoutMinutes } from './step-timer.js';

/** The statusDetails keys heartbeats own; any other key the execution carries is preserved. */
export const HEARTBEAT_KEYS = ['step', 'stepIndex', 'stepCount', 'elapsedSeconds', 'progress'] as const;
/** A handler's progress text is cut to this many characters. */
export const MAX_PROGRESS_CHARS = 256;

export interface HeartbeatsOptions {
  client: JobsClient;
  config: Config;
  log: Logger;
  state: (executionNumber: number) => ExecutionState | undefined;
  dispatch: Dispatch;
  /** Describes one execution (the sync loop's describeOne). */
  describe?: (executionNumber: number) => void;
  /** Called with each heartbeat sent (demo output, tests). */
  onHeartbeat?: (executionNumber: number, statusDetails: Record<string, string>) => void;
}

interface Run {
  plan: StepPlan;
  /** Until when (epoch ms, as this device's clock counts) the last timer we asked for runs. */
  coveredUntilMs?: number;
  step?: StepStart & { startedAtMs: number };
  timer?: NodeJS.Timeout;
  inFlight: boolean;
  progress?: string;
  /** statusDetails keys of the execution other than ours (e.g. what the claim carried). */
  base?: Record<string, string>;
}

export class Heartbeats {
  private readonly runs = new Map<number, Run>();

  constructor(private readonly opts: HeartbeatsOptions) {}

  /** The claim's stepTimeoutInMinutes for a document (first step's timeout plus the margin). */
  claimStepTimeout(executionNumber: number, document: unknown): number {
    const { executor } = this.opts.config;
    const run = this.run(executionNumber, document);
    const minutes = stepTimeoutMinutes(
      run.plan.timeoutSeconds[0] ?? executor.defaultStepTimeoutSeconds,
      executor.killGraceSeconds,
    );
    run.coveredUntilMs = Date.now() + minutes * 60_000;
    return minutes;
  }

  runStarted(executionNumber: number, document: unknown): void {
    this.run(executionNumber, document);
  }

  stepStarted(executionNumber: number, step: StepStart): void {
    const run = this.runs.get(executionNumber);
    if (!run) return;
    clearInterval(run.timer);
    run.step = { ...step, startedAtMs: Date.now() };
    run.progress = undefined;
    // A step the current timer does not cover (a longer one, or the first after a restart) renews it.
    // (Compared without the margin: the margin is slack, not part of the step.)
    const { executor } = this.opts.config;
    const stepSeconds =
      (run.plan.timeoutSeconds[step.index] ?? executor.defaultStepTimeoutSeconds) + executor.killGraceSeconds;
    if (Date.now() + stepSeconds * 1000 > (run.coveredUntilMs ?? 0)) {
      void this.send(executionNumber, 'step started');
    }
    const interval = this.opts.config.listen.progressIntervalSeconds;
    if (interval > 0) {
      run.timer = setInterval(() => void this.send(executionNumber, 'heartbeat'), interval * 1000);
      run.timer.unref();
    }
  }

  stepEnded(executionNumber: number): void {
    const run = this.runs.get(executionNumber);
    if (!run) return;
    clearInterval(run.timer);
    run.timer = undefined;
    run.step = undefined;
  }

  /** A `::progress` line: kept (sanitized, bounded) for the next heartbeat. */
  progress(executionNumber: number, text: string): void {
    const run = this.runs.get(executionNumber);
    if (!run?.step) return;
    const clean = sanitizeValue(text).slice(0, MAX_PROGRESS_CHARS);
    if (clean.length > 0) run.progress = clean;
  }

  runEnded(executionNumber: number): void {
    const run = this.runs.get(executionNumber);
    if (run) clearInterval(run.timer);
    this.runs.delete(executionNumber);
  }

  clear(): void {
    for (const n of [...this.runs.keys()]) this.runEnded(n);
  }

  /** What is left of the step's timeout after `elapsedSeconds`, plus the margin, in minutes. */
  private timerMinutes(run: Run, stepIndex: number, elapsedSeconds: number): number {
    const { executor } = this.opts.config;
    const timeout = run.plan.timeoutSeconds[stepIndex] ?? executor.defaultStepTimeoutSeconds;
    return stepTimeoutMinutes(timeout - elapsedSeconds, executor.killGraceSeconds);
  }

  private run(executionNumber: number, document: unknown): Run {
    let run = this.runs.get(executionNumber);
    if (!run) {
      const plan = stepPlan(document, this.opts.config.executor.defaultStepTimeoutSeconds);
      run = { plan, inFlight: false };
      this.runs.set(executionNumber, run);
    }
    return run;
  }

  private active(executionNumber: number, run: Run): boolean {
    const s = this.opts.state(executionNumber);
    return (
      this.runs.get(executionNumber) === run && run.step !== undefined && s?.phase === 'started' && s.running
    );
  }

  private async send(executionNumber: number, why: 'heartbeat' | 'step started'): Promise<void> {
    const run = this.runs.get(executionNumber);
    if (!run?.step || run.inFlight || !this.active(executionNumber, run)) return;
    const { client, log, dispatch } = this.opts;
    run.inFlight = true;
    try {
      run.base ??= await this.readBase(executionNumber);
      const step = run.step;
      if (!step || !this.active(executionNumber, run)) return;
      const sentAtMs = Date.now();
      const elapsedSeconds = Math.floor((sentAtMs - step.startedAtMs) / 1000);
      const stepTimeoutInMinutes = this.timerMinutes(run, step.index, elapsedSeconds);
      const ours: Record<string, string> = {
        step: step.name,
        stepIndex: String(step.index),
        stepCount: String(run.plan.count || step.index + 1),
        elapsedSeconds: String(elapsedSeconds),
      };
      if (run.progress) ours.progress = run.progress;
      const statusDetails = sanitizeStatusDetails(mergeDetails(run.base, ours));
      this.opts.onHeartbeat?.(executionNumber, statusDetails);
      const res = await client.update({
        status: 'IN_PROGRESS',
        statusDetails,
        executionNumber,
        stepTimeoutInMinutes,
        includeJobExecutionState: true,
      });
      run.coveredUntilMs = sentAtMs + stepTimeoutInMinutes * 60_000;
      log.debug({ executionNumber, why, stepTimeoutInMinutes, ...ours }, 'heartbeat accepted');
      const versionNumber = res.executionState?.versionNumber;
      if (versionNumber !== undefined && this.active(executionNumber, run)) {
        await dispatch(executionNumber, {
          type: 'described',
          execution: { status: 'IN_PROGRESS', versionNumber },
          canStart: true,
        });
      }
    } catch (err) {
      await this.refused(executionNumber, err);
    } finally {
      run.inFlight = false;
    }
  }

  /** A refused heartbeat: a terminal executionState means the service ended the execution. */
  private async refused(executionNumber: number, err: unknown): Promise<void> {
    const { log, dispatch } = this.opts;
    if (!(err instanceof JobsRequestRejectedError)) {
      log.debug({ executionNumber, err: (err as Error)?.message }, 'heartbeat not delivered');
      return;
    }
    const state = (err.payload as { executionState?: { status: string; versionNumber: number } } | undefined)
      ?.executionState;
    log.info({ executionNumber, code: err.rejectedCode, status: state?.status }, 'heartbeat refused');
    if (state && TERMINAL_STATUSES.has(state.status)) {
      await dispatch(executionNumber, { type: 'described', execution: state, canStart: true });
    } else if (GONE_CODES.has(err.rejectedCode)) {
      // No state in the reply: a describe settles it (decide() aborts the run if it is over).
      this.opts.describe?.(executionNumber);
    }
  }

  /** The execution's statusDetails other than ours (what the claim carried), read once per run. */
  private async readBase(executionNumber: number): Promise<Record<string, string>> {
    try {
      const res = await this.opts.client.describe({ executionNumber, includeJobDocument: false });
      const details = res.execution?.statusDetails ?? {};
      const base: Record<string, string> = {};
      for (const [key, value] of Object.entries(details)) {
        if (!(HEARTBEAT_KEYS as readonly string[]).includes(key) && typeof value === 'string')
          base[key] = value;
      }
      return base;
    } catch {
      return {};
    }
  }
}

/** Ours first so they survive the 10-pair limit; then as many of the preserved keys as fit. */
export function mergeDetails(
  base: Record<string, string>,
  ours: Record<string, string>,
): Record<string, string> {
  const merged: Record<string, string> = { ...ours };
  for (const [key, value] of Object.entries(base)) {
    if (Object.keys(merged).length >= MAX_DETAIL_PAIRS) break;
    if (!(key in merged)) merged[key] = value;
  }
  return merged;
}
