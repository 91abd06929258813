// One timer per (job, thing) with an IN_PROGRESS execution that has a timeout deadline. The store
// re-arms it after every change (a new step timer replaces the old one) and clears it when the
// execution leaves IN_PROGRESS. Timers are unref'd: they never keep a process alive on their own.

export class ExecutionTimers {
  private readonly timers = new Map<string, { deadline: number; handle: NodeJS.Timeout }>();

  constructor(private readonly nowMs: () => number) {}

  /** Arms (or re-arms) `key` to call `fire` at `deadline` (epoch ms); undefined clears it. */
  set(key: string, deadline: number | undefined, fire: () => void): void {
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
      Math.max(0, deadline - this.nowMs()),
    );
    handle.unref();
    this.timers.set(key, { deadline, handle });
  }

  /** Clears every timer whose key starts with `prefix` (all of them without one). */
  clear(prefix = ''): void {
    for (const [key, timer] of this.timers) {
      if (!key.startsWith(prefix)) continue;
      clearTimeout(timer.handle);
      this.timers.delete(key);
    }
  }

  get size(): number {
    return this.timers.size;
  }
}
