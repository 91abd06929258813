// The one way tests wait for something asynchronous: vitest's vi.waitFor polls `check` until it
// returns a truthy value (or stops throwing) and fails naming `what` after `timeoutMs`. The timeouts
// are generous on purpose: the suite must pass on a loaded 2-core machine; nothing here measures time.
import { vi } from 'vitest';

/** What a truthy result of `check` can be. */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 20_000,
): Promise<Truthy<T>> {
  return vi.waitFor(
    async () => {
      const value = await check();
      if (!value) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      return value as Truthy<T>;
    },
    { timeout: timeoutMs, interval: 20 },
  );
}
