// The contract between the jobs half (src/jobs: listener, journal) and the runner (src/run).
// The listener owns "exactly once" and status reporting; the runner only turns a document into an outcome.
import type { Logger } from '../log.js';

export type FinalStatus = 'SUCCEEDED' | 'FAILED' | 'REJECTED';

/** statusDetails as the Jobs API takes them; the listener sanitizes them to the service's limits. */
export type StatusDetails = Record<string, string>;

export interface JobOutcome {
  status: FinalStatus;
  statusDetails: StatusDetails;
}

export interface StepStart {
  /** Index in the flattened step list (steps..., then finalStep). */
  index: number;
  name: string;
  /** The step may restart the device (`resumeAfterReboot`): after a restart, continue with index + 1. */
  resumable: boolean;
}

export interface JobContext {
  jobId: string;
  namespaceId: string;
  thingName: string;
  executionNumber: number;
  /** Aborted when the service cancels the execution or the agent shuts down past its grace period. */
  signal: AbortSignal;
  /** Set after a restart when the journal shows that step `resumeFromStep - 1` was resumable. */
  resumeFromStep?: number;
  /** Must be awaited before a step's side effects: the journal records the step first. */
  onStepStart(step: StepStart): Promise<void>;
  /** Optional progress (shown by `ggjobs demo` and logged); never affects the outcome. */
  /** `skipped` is set for steps passed over when resuming after a restart (they ran before it). */
  onStepEnd?(step: StepStart & { ok: boolean; reason?: string; skipped?: boolean }): void;
  /** A running step's handler printed `::progress <text>` on stdout (text as printed, untrimmed). */
  onProgress?(text: string): void;
  log: Logger;
}

/**
 * Runs one execution's document. Never throws for a bad document or a failing step: those are
 * REJECTED / FAILED outcomes with a `reason`. Throws only when aborted (signal) or on a bug.
 */
export interface RunJob {
  (document: unknown, context: JobContext): Promise<JobOutcome>;
  /**
   * The step a fresh run of `document` reports first through onStepStart, when the runner can tell
   * from the document alone (undefined otherwise). The listener folds that step into the journal's
   * `started` record, one durable write instead of two, when the step is not resumable.
   */
  firstStep?: (document: unknown) => StepStart | undefined;
}
