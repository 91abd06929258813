// Attack family: runCommand outside executor.allowedCommands, output floods and processes that try
// to outlive their step. Commands not on the list are REJECTED before anything runs; 50 MB of random
// bytes on stdout and stderr still give statusDetails within the AWS limits (<= 10 keys, values of
// 1-1024 characters, no control characters); a grandchild that ignores SIGTERM is gone once a 2 s
// step timeout has passed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AttackBench, handlerStep, ran, startAttackBench } from './harness.js';

let bench: AttackBench;
beforeAll(async () => {
  bench = await startAttackBench();
});
afterAll(async () => {
  await bench?.close();
});

const command = (line: string) => ({
  version: '1.0',
  steps: [{ action: { name: 'Cmd', type: 'runCommand', input: { command: line } } }],
});

describe('attack: runCommand outside the allowlist', () => {
  it('any command is REJECTED when nothing is allowed', async () => {
    const marker = bench.marker();
    const outcome = await bench.deliver(command(`touch,${marker}`));
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toBe(
      'steps[0].action.input.command: runCommand is disabled on this device (executor.allowedCommands is empty)',
    );
    expect(ran(marker)).toBe(false);
  });

  it.each([
    [
      'an executable not on the list',
      (m: string) => `touch,${m}`,
      '"touch" is not in executor.allowedCommands (echo)',
    ],
    ['a shell', (m: string) => `sh,-c,touch ${m}`, '"sh" is not in executor.allowedCommands (echo)'],
    [
      'a listed name under another directory',
      (m: string) => `/tmp/echo,${m}`,
      '"/tmp/echo" is not in executor.allowedCommands (echo)',
    ],
    [
      'a relative path',
      (m: string) => `./echo,${m}`,
      '"./echo" must be a bare command name or an absolute path',
    ],
  ])('%s is REJECTED', async (_what, line, why) => {
    const marker = bench.marker();
    const outcome = await bench.deliver(command(line(marker)), { allowedCommands: ['echo'] });
    expect(outcome.status).toBe('REJECTED');
    expect(outcome.reason).toBe(`steps[0].action.input.command: ${why}`);
    expect(ran(marker)).toBe(false);
  });

  it('control: a listed command runs', async () => {
    const marker = bench.marker();
    const outcome = await bench.deliver(command(`touch,${marker}`), { allowedCommands: ['touch'] });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(ran(marker)).toBe(true);
  });
});

describe('attack: output floods', () => {
  it('50 MB of random bytes on stdout and stderr stay within the statusDetails limits', async () => {
    await bench.handler(
      bench.handlers,
      'flood.sh',
      'head -c 52428800 /dev/urandom; head -c 52428800 /dev/urandom >&2; exit 1',
    );
    const outcome = await bench.deliver({ ...handlerStep('flood.sh'), includeStdOut: true });
    expect(outcome.status).toBe('FAILED');
    const entries = Object.entries(outcome.details);
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.length).toBeLessThanOrEqual(10);
    for (const [key, value] of entries) {
      expect(key).toMatch(/^[a-zA-Z0-9:_-]{1,128}$/);
      expect(value.length).toBeGreaterThanOrEqual(1);
      expect(value.length).toBeLessThanOrEqual(1024);
      expect(value).not.toMatch(/\p{C}/u);
    }
    expect(outcome.details.stdout?.length).toBeGreaterThan(0);
    expect(outcome.details.stderr?.length).toBeGreaterThan(0);
  });
});

describe('attack: outliving the step', () => {
  it('a grandchild that ignores SIGTERM is gone after a 2 s step timeout', async () => {
    const pidFile = join(bench.safe, 'grandchild.pid');
    await bench.handler(
      bench.handlers,
      'linger.sh',
      [
        `sh -c 'trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 1; done' &`,
        'trap "" TERM',
        'while :; do sleep 1; done',
      ].join('\n'),
    );
    const outcome = await bench.deliver(
      {
        version: '1.0',
        steps: [
          {
            action: {
              name: 'Linger',
              type: 'runHandler',
              input: { handler: 'linger.sh' },
              timeoutSeconds: 2,
            },
          },
        ],
      },
      { killGraceSeconds: 1 },
    );
    expect(outcome.status).toBe('FAILED');
    expect(outcome.reason).toBe('step "Linger" timed out after 2s');
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(pid).toBeGreaterThan(1);
    // Gone, or at most a zombie waiting for a container's PID 1 to reap it: it runs nothing.
    await vi.waitFor(
      () => {
        const status = `/proc/${pid}/status`;
        expect(!existsSync(status) || /^State:\s+Z/m.test(readFileSync(status, 'utf8'))).toBe(true);
      },
      { timeout: 15_000, interval: 100 },
    );
  });
});
