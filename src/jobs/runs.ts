// Calls the runner for an execution the journal shows as started, and hands its outcome back to the
// listener. Owns the AbortController of each running job and the JobContext the runner sees.
import { JournalError } from '../errors.js';
import type { Logger } from '../log.js';
import type { JobContext, JobOutcome, RunJob, StepStart } from '../run/types.js';
import { type ExecutionEvent, type ExecutionState, isFinalStatus } from './execution.js';
import type { JobIds } from './topics.js';

export interface RunsOptions {
  ids: JobIds;
  runJob: RunJob;
  log: Logger;
  state: (executionNumber: number) => ExecutionState | undefined;
  /** Resolves once the event's journal writes are done; `persisted` is false if one failed. */
  dispatch: (executionNumber: number, event: ExecutionEvent) => Promise<{ persisted: boolean }>;
  /** Told when a run starts and ends, when each step starts and ends, and of `::progress` lines. */
  observer?: RunObserver;
}

export interface RunObserver {
  runStarted(executionNumber: number, document: unknown): void;
  stepStarted(executionNumber: number, step: StepStart): void;
  stepEnded(executionNumber: number): void;
  progress(executionNumber: number, text: string): void;
  runEnded(executionNumber: number): void;
}

interface Running {
  controller: AbortController;
  done: Promise<void>;
}

/** A runner result the listener can report; anything else is a runner bug (reported FAILED). */
function checkOutcome(value: unknown): JobOutcome | string {
  const o = value as Partial<JobOutcome> | null;
  if (!o || typeof o !== 'object' || typeof o.status !== 'string' || !isFinalStatus(o.status)) {
    return `runner returned no valid outcome (status must be SUCCEEDED, FAILED or REJECTED)`;
  }
  const details = o.statusDetails && typeof o.statusDetails === 'object' ? o.statusDetails : {};
  return { status: o.status, statusDetails: details as Record<string, string> };
}

/**
 * A shutdown (reboot, nucleus stopping the component) may signal a step's processes a moment before
 * the agent itself: a resumable step killed by a signal waits this long for the agent's own stop
 * before its failure is reported, so that a reboot is not reported FAILED.
 */
export const SIGNAL_SETTLE_MS = 3_000;

/** The outcome is the failure of the resumable step the journal shows, killed by a signal. */
function killedInResumableStep(outcome: JobOutcome, state: ExecutionState | undefined): boolean {
  const step = state?.lastStep;
  return (
    outcome.status === 'FAILED' &&
    step?.resumable === true &&
    outcome.statusDetails.failedStep === step.name &&
    /killed by signal SIG(TERM|KILL|HUP|INT)/.test(outcome.statusDetails.reason ?? '')
  );
}

function abortedWithin(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class Runs {
  private readonly running = new Map<number, Running>();

  constructor(private readonly opts: RunsOptions) {}

  get size(): number {
    return this.running.size;
  }

  numbers(): number[] {
    return [...this.running.keys()];
  }

  start(executionNumber: number, document: unknown, resumeFromStep?: number): void {
    if (this.running.has(executionNumber)) return;
    const { ids, log, dispatch, observer } = this.opts;
    const controller = new AbortController();
    const jobLog = log.child({ executionNumber });
    const context: JobContext = {
      jobId: ids.jobId,
      namespaceId: ids.namespaceId,
      thingName: ids.thingName,
      executionNumber,
      signal: controller.signal,
      ...(resumeFromStep !== undefined ? { resumeFromStep } : {}),
      onStepStart: async (step: StepStart) => {
        const s = this.opts.state(executionNumber);
        if (controller.signal.aborted || s?.phase !== 'started' || !s.running) {
          throw new JournalError(
            `execution ${executionNumber} is no longer running; step ${step.index} not started`,
          );
        }
        const { persisted } = await dispatch(executionNumber, { type: 'stepStarted', step });
        if (!persisted)
          throw new JournalError(`could not journal step ${step.index} (${step.name}); not starting it`);
        jobLog.info({ step: step.name, index: step.index }, 'step started');
        observer?.stepStarted(executionNumber, step);
      },
      onStepEnd: (step) => {
        observer?.stepEnded(executionNumber);
        jobLog.info({ step: step.name, index: step.index, ok: step.ok, reason: step.reason }, 'step ended');
      },
      onProgress: (text) => observer?.progress(executionNumber, text),
      log: jobLog,
    };
    observer?.runStarted(executionNumber, document);
    jobLog.info({ resumeFromStep }, 'running job');
    const done = Promise.resolve()
      .then(() => this.opts.runJob(document, context))
      .finally(() => observer?.runEnded(executionNumber))
      .then(
        async (value) => {
          const checked = checkOutcome(value);
          if (typeof checked === 'string')
            return dispatch(executionNumber, { type: 'runSettled', error: checked });
          if (killedInResumableStep(checked, this.opts.state(executionNumber))) {
            jobLog.info(
              { waitMs: SIGNAL_SETTLE_MS },
              'resumable step killed by a signal: waiting in case the device is shutting down',
            );
            await abortedWithin(controller.signal, SIGNAL_SETTLE_MS);
            if (controller.signal.aborted) {
              return dispatch(executionNumber, {
                type: 'runSettled',
                error: 'aborted: the agent is stopping',
              });
            }
          }
          return dispatch(executionNumber, { type: 'runSettled', outcome: checked });
        },
        (err) => {
          const reason = controller.signal.aborted ? ` (aborted: ${String(controller.signal.reason)})` : '';
          jobLog.info({ err: (err as Error)?.message }, `job threw${reason}`);
          return dispatch(executionNumber, {
            type: 'runSettled',
            error: `${(err as Error)?.message ?? err}`,
          });
        },
      )
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => this.running.delete(executionNumber));
    this.running.set(executionNumber, { controller, done });
  }

  abort(executionNumber: number, reason: 'cancelled' | 'stopping'): void {
    this.running.get(executionNumber)?.controller.abort(reason);
  }

  /** True when every running job settled within ms. */
  async settledWithin(ms: number): Promise<boolean> {
    const all = Promise.all([...this.running.values()].map((r) => r.done)).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), ms);
    });
    const result = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return result;
  }
}
