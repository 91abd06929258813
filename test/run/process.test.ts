// How step processes are run: argv without a shell, both output streams read concurrently into
// bounded tails, and timeouts/cancellation that stop the whole process group, grandchildren included.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JobAbortedError } from '../../src/errors.js';
import { OutputTail } from '../../src/run/output-tail.js';
import { createJobRunner } from '../../src/run/runner.js';
import { isProcessAlive } from '../../src/run/spawn.js';
import {
  cleanup,
  executorConfig,
  handlerDocument,
  makeTempDir,
  recordingContext,
  statusOf,
  waitFor,
  writeHandler,
} from './helpers.js';

afterEach(cleanup);

async function pidsIn(file: string): Promise<number[]> {
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map(Number)
    .filter((n) => n > 0);
}

describe('no shell', () => {
  it('hands every argument to the handler verbatim, runAsUser first', async () => {
    const dir = await makeTempDir();
    const out = join(dir, 'argv');
    const canary = join(dir, 'canary');
    await writeHandler(dir, 'argv.sh', `out=$2\nfor a in "$@"; do printf '[%s]\\n' "$a"; done > "$out"`);
    const tricky = [
      `; rm -rf ${canary}`,
      `$(touch ${canary})`,
      '`id`',
      '*',
      'two words',
      '',
      'it\'s "quoted"',
    ];
    const run = createJobRunner(executorConfig({ handlerDirectory: dir }));
    const outcome = await run(handlerDocument('argv.sh', [out, ...tricky]), recordingContext().context);
    expect(outcome.status).toBe('SUCCEEDED');
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    expect(lines).toEqual(['[]', `[${out}]`, ...tricky.map((a) => `[${a}]`)]);
    expect(existsSync(canary)).toBe(false);
  });

  it('passes an explicit runAsUser as the first argument', async () => {
    const dir = await makeTempDir();
    const out = join(dir, 'argv');
    await writeHandler(dir, 'first.sh', `printf '%s' "$1" > '${out}'`);
    const run = createJobRunner(executorConfig({ handlerDirectory: dir }));
    await run(handlerDocument('first.sh', [], { runAsUser: 'root' }), recordingContext().context);
    expect(await readFile(out, 'utf8')).toBe('root');
  });
});

describe('output', () => {
  it('reads 10 MB on stderr and 10 MB on stdout without deadlock, keeping the last 1024 characters', async () => {
    const dir = await makeTempDir();
    // stderr first: a reader that drained stdout before stderr would block this writer forever.
    await writeHandler(
      dir,
      'flood.sh',
      [
        "head -c 10485760 /dev/zero | tr '\\0' e >&2",
        "printf 'STDERR-END' >&2",
        "head -c 10485760 /dev/zero | tr '\\0' o",
        "printf 'STDOUT-END'",
      ].join('\n'),
    );
    const run = createJobRunner(executorConfig({ handlerDirectory: dir }));
    const outcome = await run(
      { ...handlerDocument('flood.sh'), includeStdOut: true },
      recordingContext().context,
    );
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.statusDetails.stdout).toBe(`${'o'.repeat(1014)}STDOUT-END`);
    expect(outcome.statusDetails.stderr).toBe(`${'e'.repeat(1014)}STDERR-END`);
  });

  it('keeps whole characters and counts lines in the tail', () => {
    const tail = new OutputTail(4);
    const bytes = Buffer.from('ab\ncdé€\n😀x');
    for (const b of bytes) tail.push(Buffer.from([b]));
    tail.end();
    expect(tail.tail()).toBe('\n😀x'.slice(-4));
    expect(tail.lines).toBe(3);
    expect(tail.totalBytes).toBe(bytes.length);
  });

  it('never starts a tail with half a surrogate pair', () => {
    const tail = new OutputTail(3);
    tail.push(Buffer.from('a😀bc'));
    tail.end();
    expect(tail.tail()).toBe('bc');
  });
});

describe('timeouts and cancellation stop the whole process group', () => {
  // The handler records its own pid and starts a grandchild that ignores SIGTERM (so only the
  // SIGKILL after killGraceSeconds stops it), records that pid too, and waits.
  const stubborn = [
    `echo $$ >> "$2"`,
    `sh -c 'trap "" TERM; echo $$ >> "$0"; exec sleep 300' "$2" &`,
    'sleep 300 &',
    `echo $! >> "$2"`,
    'wait',
  ].join('\n');

  it('kills the group when the step times out and says so', async () => {
    const dir = await makeTempDir();
    const pidFile = join(dir, 'pids');
    await writeHandler(dir, 'hang.sh', stubborn);
    const run = createJobRunner(executorConfig({ handlerDirectory: dir, killGraceSeconds: 1 }));
    // 3 s leaves the handler ample time to record its pids even on a loaded machine.
    const outcome = await run(
      handlerDocument('hang.sh', [pidFile], { timeoutSeconds: 3 }),
      recordingContext().context,
    );
    expect(statusOf(outcome)).toBe('FAILED: step "Run" timed out after 3s');
    const pids = await pidsIn(pidFile);
    expect(pids).toHaveLength(3);
    for (const pid of pids) expect(isProcessAlive(pid), `pid ${pid}`).toBe(false);
  });

  it('uses executor.defaultStepTimeoutSeconds when the step sets none', async () => {
    const dir = await makeTempDir();
    await writeHandler(dir, 'sleepy.sh', 'exec sleep 300');
    const run = createJobRunner(
      executorConfig({ handlerDirectory: dir, defaultStepTimeoutSeconds: 1, killGraceSeconds: 0 }),
    );
    expect(statusOf(await run(handlerDocument('sleepy.sh'), recordingContext().context))).toBe(
      'FAILED: step "Run" timed out after 1s',
    );
  });

  it('on abort, rejects with JobAbortedError only after the group is gone', async () => {
    const dir = await makeTempDir();
    const pidFile = join(dir, 'pids');
    await writeHandler(dir, 'hang.sh', stubborn);
    const run = createJobRunner(executorConfig({ handlerDirectory: dir, killGraceSeconds: 1 }));
    const { context, controller, ended } = recordingContext();
    const running = run(handlerDocument('hang.sh', [pidFile]), context);
    await waitFor(
      async () => existsSync(pidFile) && (await pidsIn(pidFile)).length === 3,
      'three pids in the pid file',
    );
    controller.abort(new Error('job canceled'));
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobAbortedError);
    expect((error as JobAbortedError).step).toBe('Run');
    for (const pid of await pidsIn(pidFile)) expect(isProcessAlive(pid), `pid ${pid}`).toBe(false);
    expect(ended).toMatchObject([{ index: 0, ok: false, reason: 'step "Run" was aborted' }]);
  });

  it('leaves background processes alone when the handler exits by itself', async () => {
    const dir = await makeTempDir();
    const pidFile = join(dir, 'pids');
    await writeHandler(dir, 'daemon.sh', `sleep 300 > /dev/null 2>&1 &\necho $! > "$2"`);
    const run = createJobRunner(executorConfig({ handlerDirectory: dir }));
    expect((await run(handlerDocument('daemon.sh', [pidFile]), recordingContext().context)).status).toBe(
      'SUCCEEDED',
    );
    const [pid] = await pidsIn(pidFile);
    expect(isProcessAlive(pid!)).toBe(true);
    process.kill(pid!, 'SIGKILL');
  });

  it('finishes the step when the handler exits even if a background child keeps its output open', async () => {
    const dir = await makeTempDir();
    const pidFile = join(dir, 'pids');
    await writeHandler(dir, 'leaky.sh', `sleep 300 &\necho $! > "$2"\necho done`);
    const run = createJobRunner(executorConfig({ handlerDirectory: dir }));
    const outcome = await run(
      { ...handlerDocument('leaky.sh', [pidFile], { timeoutSeconds: 120 }), includeStdOut: true },
      recordingContext().context,
    );
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.statusDetails.stdout).toBe('done\n');
    const [pid] = await pidsIn(pidFile);
    process.kill(pid!, 'SIGKILL');
  });
});
