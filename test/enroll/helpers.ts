// Shared helpers for the enroll tests.

/** A small seeded PRNG (mulberry32) so jitter tests are reproducible. Returns [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An error shaped like the AWS SDK's service exceptions (name + $metadata). */
export function awsError(name: string, httpStatusCode: number, message = name): Error {
  const err = new Error(message) as Error & { $metadata: { httpStatusCode: number } };
  err.name = name;
  err.$metadata = { httpStatusCode };
  return err;
}

/** A Node network error (what the SDK's HTTP handler throws when the endpoint is unreachable). */
export function networkError(code: string): Error {
  const err = new Error(`connect ${code} 127.0.0.1:1`) as Error & { code: string };
  err.code = code;
  return err;
}

/** A fake clock whose sleep advances time instantly; records every pause. */
export function fakeClock(start = 1_000_000) {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
    sleeps,
  };
}
