// One timer per (job, thing) with an IN_PROGRESS execution that has a timeout deadline (the earlier
// of its in-progress and step timers). The store re-syncs it after every change (a new step timer
// replaces the old one) and it is cleared when the execution leaves IN_PROGRESS. When it fires, the
// execution, if still IN_PROGRESS and due, becomes TIMED_OUT through the book (so retries, aborts and
// notifications follow as for any terminal change). Timers are unref'd: they never keep a process alive.
import type { JobBook } from './job-book.js';
import { timeoutDeadline } from './job-model.js';

export class ExecutionTimers {
  private readonly timers = new Map<string, { deadline: number; handle: NodeJS.Timeout }>();

  constructor(
    private readonly book: JobBook,
    /** Emits what the time-out changed (the store's announce). */
    private readonly announce: () => void,
  ) {}

  /** Arms, re-arms or clears the timer of the thing's latest execution of the job. */
  sync(jobId: string, thingName: string): void {
    const state = this.book.jobs.get(jobId);
    const latest = state ? this.book.latestExecution(state, thingName) : undefined;
    const deadline = latest?.status === 'IN_PROGRESS' ? timeoutDeadline(latest) : undefined;
    this.set(`${jobId}\u0000${thingName}`, deadline, () => this.expire(jobId, thingName));
  }

  /** Clears every timer (the store is closing). */
  clear(): void {
    for (const timer of this.timers.values()) clearTimeout(timer.handle);
    this.timers.clear();
  }

  get size(): number {
    return this.timers.size;
  }

  private set(key: string, deadline: number | undefined, fire: () => void): void {
    const current = this.timers.get(key);
    if (current?.deadline === deadline) return;
    if (current) clearTimeout(current.handle);
    this.timers.delete(key);
    if (deadline === undefined) return;
    const handle = setTimeout(
      () => {
        this.timers.delete(key);
        fire();
      },
      Math.max(0, deadline - this.book.nowMs()),
    );
    handle.unref();
    this.timers.set(key, { deadline, handle });
  }

  private expire(jobId: string, thingName: string): void {
    const state = this.book.jobs.get(jobId);
    const latest = state ? this.book.latestExecution(state, thingName) : undefined;
    if (state && latest?.status === 'IN_PROGRESS') {
      const deadline = timeoutDeadline(latest);
      if (deadline !== undefined && deadline <= this.book.nowMs()) {
        this.book.setStatus(state, latest, 'TIMED_OUT');
      } else {
        this.book.markChanged(state.record, thingName); // not due (the clock moved): re-armed below
      }
    }
    this.announce();
  }
}
