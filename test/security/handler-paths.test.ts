// Attack family: a runHandler step that names something other than a handler the operator installed.
// System directories as `path` (root-owned, not writable: they pass ownership checks, so only the
// allowlist stops them), `..`, absolute handler names, NUL bytes and percent-encoded traversal, in
// the current and the legacy document form. Every one ends REJECTED, before anything runs, with a
// reason naming the path and what is allowed; the marker that /usr/bin/touch would create never appears.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttackBench, handlerStep, ran, startAttackBench } from './harness.js';

let bench: AttackBench;
beforeAll(async () => {
  bench = await startAttackBench();
});
afterAll(async () => {
  await bench?.close();
});

describe('attack: system directories as the handler path', () => {
  it.each(['/usr/bin', '/bin', '/usr/bin/', '/sbin', '/usr/sbin', '/'])(
    'path %s with handler "touch" is REJECTED naming the path and the allowed directories',
    async (path) => {
      const marker = bench.marker();
      const outcome = await bench.deliver(handlerStep('touch', [marker], { path }));
      expect(outcome.status).toBe('REJECTED');
      expect(outcome.reason).toBe(
        `step "Attack": handler directory ${JSON.stringify(path)} is not in executor.handlerDirectories (${bench.handlers})`,
      );
      expect(ran(marker)).toBe(false);
    },
  );

  it('control: once the operator lists the directory, the same document runs (the marker appears)', async () => {
    const marker = bench.marker();
    const outcome = await bench.deliver(handlerStep('touch', [marker], { path: '/usr/bin' }), {
      handlerDirectories: ['/usr/bin'],
    });
    // touch gets runAsUser ("") as its first argument, Device Client style, and fails on it after
    // creating the marker: what matters here is that it ran.
    expect(outcome.status).toMatch(/SUCCEEDED|FAILED/);
    expect(ran(marker)).toBe(true);
  });

  it('the legacy form {operation, path} is held to the same allowlist', async () => {
    const marker = bench.marker();
    const outcome = await bench.deliver({ operation: 'touch', path: '/usr/bin', args: [marker] });
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toContain('handler directory "/usr/bin" is not in executor.handlerDirectories');
    expect(ran(marker)).toBe(false);
  });

  it('a later step naming /bin stops the whole document: the harmless first step never runs', async () => {
    const first = bench.marker('first');
    const second = bench.marker('second');
    const outcome = await bench.deliver({
      version: '1.0',
      steps: [
        { action: { name: 'Harmless', type: 'runHandler', input: { handler: 'mark.sh', args: [first] } } },
        {
          action: {
            name: 'Evil',
            type: 'runHandler',
            input: { handler: 'touch', args: [second], path: '/bin' },
          },
        },
      ],
    });
    expect(outcome.status).toBe('REJECTED');
    expect(ran(first) || ran(second)).toBe(false);
  });
});

describe('attack: traversal and smuggling in handler names and paths', () => {
  it('".." in the path that leads from the handler directory to /usr/bin is REJECTED', async () => {
    const marker = bench.marker();
    const path = `${bench.handlers}/../../../../../../usr/bin`;
    const outcome = await bench.deliver(handlerStep('touch', [marker], { path }));
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toContain('path: must not contain ".." segments');
    expect(ran(marker)).toBe(false);
  });

  it.each([
    ['../../../../usr/bin/touch', 'must be a file name inside the handler directory (no "/" or "..")'],
    ['..', 'must be a file name inside the handler directory (no "/" or "..")'],
    ['/usr/bin/touch', 'is an absolute path; name a file inside the handler directory'],
    ['..%2f..%2f..%2fusr%2fbin%2ftouch', 'not found in'],
    ['%2e%2e/touch', 'must be a file name inside the handler directory (no "/" or "..")'],
  ])('handler name %j is REJECTED (%s)', async (handler, why) => {
    const marker = bench.marker();
    const outcome = await bench.deliver(handlerStep(handler, [marker]));
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toContain(why);
    expect(ran(marker)).toBe(false);
  });

  it('a percent-encoded path (/usr/%62in) is not decoded and not allowed', async () => {
    const marker = bench.marker();
    const outcome = await bench.deliver(handlerStep('touch', [marker], { path: '/usr/%62in' }));
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toContain('handler directory "/usr/%62in" is not in executor.handlerDirectories');
    expect(ran(marker)).toBe(false);
  });

  it.each([
    [
      'a NUL byte in the handler name',
      { handler: 'echo.sh\u0000/../../../usr/bin/touch' },
      'input.handler: must not contain NUL characters',
    ],
    [
      'a NUL byte in the path',
      { handler: 'touch', path: '/opt\u0000/../usr/bin' },
      'input.path: must not contain NUL characters',
    ],
    [
      'a NUL byte in an argument',
      { handler: 'echo.sh', args: ['a\u0000b'] },
      'input.args[0]: must not contain NUL characters',
    ],
  ])('%s is REJECTED as malformed', async (_what, input, why) => {
    const marker = bench.marker();
    const outcome = await bench.deliver({
      version: '1.0',
      steps: [{ action: { name: 'Attack', type: 'runHandler', input: { args: [marker], ...input } } }],
    });
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toContain(why);
    expect(ran(marker)).toBe(false);
  });
});
