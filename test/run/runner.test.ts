// Step semantics of createJobRunner with real handler scripts in temporary handler directories.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobAbortedError } from '../../src/errors.js';
import {
  handlerDocument,
  jobRunner,
  makeTempDir,
  recordingContext,
  statusOf,
  writeHandler,
} from './helpers.js';

/** Handlers that append their name to a log, then exit with the code in their name. */
async function stepHandlers(dir: string, log: string) {
  await writeHandler(dir, 'ok.sh', `echo "ok $2" >> '${log}'; echo "stdout of $2"`);
  await writeHandler(dir, 'fail.sh', `echo "fail $2" >> '${log}'; echo "bad thing" >&2; exit 1`);
}

function runHandlerStep(name: string, handler: string, extra: Record<string, unknown> = {}) {
  return { action: { name, type: 'runHandler', input: { handler, args: [name] }, ...extra } };
}

async function linesOf(file: string): Promise<string[]> {
  return existsSync(file) ? (await readFile(file, 'utf8')).trim().split('\n') : [];
}

describe('step semantics', () => {
  it('runs every step in order and then finalStep; SUCCEEDED', async () => {
    const dir = await makeTempDir();
    const log = join(dir, 'log');
    await stepHandlers(dir, log);
    const run = jobRunner({ handlerDirectory: dir });
    const { context, started, ended } = recordingContext();
    const outcome = await run(
      {
        version: '1.0',
        includeStdOut: 'true',
        steps: [runHandlerStep('A', 'ok.sh'), runHandlerStep('B', 'ok.sh')],
        finalStep: runHandlerStep('Z', 'ok.sh'),
      },
      context,
    );
    expect(outcome).toEqual({
      status: 'SUCCEEDED',
      statusDetails: { reason: 'all 3 steps succeeded', step: 'Z', stdout: 'stdout of Z\n' },
    });
    expect(await linesOf(log)).toEqual(['ok A', 'ok B', 'ok Z']);
    expect(started).toEqual([
      { index: 0, name: 'A', resumable: false },
      { index: 1, name: 'B', resumable: false },
      { index: 2, name: 'Z', resumable: false },
    ]);
    expect(ended.map((e) => [e.index, e.ok])).toEqual([
      [0, true],
      [1, true],
      [2, true],
    ]);
  });

  it('stops at the first failing step; no finalStep; FAILED with the exit code in words', async () => {
    const dir = await makeTempDir();
    const log = join(dir, 'log');
    await stepHandlers(dir, log);
    const run = jobRunner({ handlerDirectory: dir });
    const { context, started } = recordingContext();
    const outcome = await run(
      {
        version: '1.0',
        steps: [runHandlerStep('Install', 'fail.sh'), runHandlerStep('B', 'ok.sh')],
        finalStep: runHandlerStep('Z', 'ok.sh'),
      },
      context,
    );
    expect(outcome).toEqual({
      status: 'FAILED',
      statusDetails: {
        reason: 'step "Install" exited with code 1',
        step: 'Install',
        failedStep: 'Install',
        stderr: 'bad thing\n',
      },
    });
    expect(await linesOf(log)).toEqual(['fail Install']);
    expect(started.map((s) => s.name)).toEqual(['Install']);
  });

  it('continues past a failing step with ignoreStepFailure and still runs finalStep', async () => {
    const dir = await makeTempDir();
    const log = join(dir, 'log');
    await stepHandlers(dir, log);
    const run = jobRunner({ handlerDirectory: dir });
    const { context } = recordingContext();
    const outcome = await run(
      {
        version: '1.0',
        steps: [runHandlerStep('A', 'fail.sh', { ignoreStepFailure: 'true' }), runHandlerStep('B', 'ok.sh')],
        finalStep: runHandlerStep('Z', 'ok.sh'),
      },
      context,
    );
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.statusDetails.reason).toBe(
      '3 steps ran; ignored failures (ignoreStepFailure): step "A" exited with code 1',
    );
    expect(await linesOf(log)).toEqual(['fail A', 'ok B', 'ok Z']);
  });

  it('reports a failing finalStep as FAILED', async () => {
    const dir = await makeTempDir();
    const log = join(dir, 'log');
    await stepHandlers(dir, log);
    const run = jobRunner({ handlerDirectory: dir });
    const outcome = await run(
      {
        version: '1.0',
        steps: [runHandlerStep('A', 'ok.sh')],
        finalStep: runHandlerStep('Cleanup', 'fail.sh'),
      },
      recordingContext().context,
    );
    expect(statusOf(outcome)).toBe('FAILED: step "Cleanup" exited with code 1');
  });

  it('says "killed by signal" only for signals', async () => {
    const dir = await makeTempDir();
    await writeHandler(dir, 'self-kill.sh', 'kill -TERM $$');
    await writeHandler(dir, 'exit-one.sh', 'exit 1');
    const run = jobRunner({ handlerDirectory: dir });
    expect(statusOf(await run(handlerDocument('self-kill.sh'), recordingContext().context))).toBe(
      'FAILED: step "Run" was killed by signal SIGTERM',
    );
    expect(statusOf(await run(handlerDocument('exit-one.sh'), recordingContext().context))).toBe(
      'FAILED: step "Run" exited with code 1',
    );
  });

  it('includes stdout only with includeStdOut, stderr always', async () => {
    const dir = await makeTempDir();
    await writeHandler(dir, 'talk.sh', 'echo out; echo err >&2');
    const run = jobRunner({ handlerDirectory: dir });
    const quiet = await run(handlerDocument('talk.sh'), recordingContext().context);
    expect(quiet.statusDetails).toEqual({ reason: 'the step succeeded', step: 'Run', stderr: 'err\n' });
    const loud = await run(
      { ...handlerDocument('talk.sh'), includeStdOut: true },
      recordingContext().context,
    );
    expect(loud.statusDetails).toMatchObject({ stdout: 'out\n', stderr: 'err\n' });
  });
});

describe('allowStdErr', () => {
  async function runWithAllowStdErr(allowStdErr: unknown) {
    const dir = await makeTempDir();
    await writeHandler(dir, 'warn.sh', 'printf "w1\\nw2\\nw3" >&2');
    const run = jobRunner({ handlerDirectory: dir });
    const action = allowStdErr === undefined ? {} : { allowStdErr };
    return run(handlerDocument('warn.sh', [], action), recordingContext().context);
  }

  it('fails a step that exits 0 with more stderr lines than allowed', async () => {
    expect(statusOf(await runWithAllowStdErr(2))).toBe(
      'FAILED: step "Run" wrote 3 lines to stderr; allowStdErr is 2',
    );
    expect(statusOf(await runWithAllowStdErr(0))).toBe(
      'FAILED: step "Run" wrote 3 lines to stderr; allowStdErr is 0',
    );
  });

  it('passes when the lines are within the allowance or allowStdErr is absent', async () => {
    expect((await runWithAllowStdErr('3')).status).toBe('SUCCEEDED');
    expect((await runWithAllowStdErr(undefined)).status).toBe('SUCCEEDED');
  });
});

describe('documents that are not run', () => {
  it('REJECTS a malformed document without starting any step', async () => {
    const dir = await makeTempDir();
    const run = jobRunner({ handlerDirectory: dir });
    const { context, started } = recordingContext();
    const outcome = await run(
      { version: '1.0', steps: [{ action: { name: 'x', type: 'runHandler', input: {} } }] },
      context,
    );
    expect(outcome).toEqual({
      status: 'REJECTED',
      statusDetails: { reason: 'invalid job document: steps[0].action.input.handler: required' },
    });
    expect(started).toEqual([]);
  });

  it('REJECTS runCommand when executor.allowedCommands is empty, before any step runs', async () => {
    const dir = await makeTempDir();
    const log = join(dir, 'log');
    await stepHandlers(dir, log);
    const run = jobRunner({ handlerDirectory: dir });
    const { context, started } = recordingContext();
    const outcome = await run(
      {
        version: '1.0',
        steps: [
          runHandlerStep('A', 'ok.sh'),
          { action: { name: 'B', type: 'runCommand', input: { command: 'ls,/' } } },
        ],
      },
      context,
    );
    expect(outcome).toEqual({
      status: 'REJECTED',
      statusDetails: {
        reason:
          'steps[1].action.input.command: runCommand is disabled on this device (executor.allowedCommands is empty)',
      },
    });
    expect(started).toEqual([]);
    expect(existsSync(log)).toBe(false);
  });

  it('REJECTS a command that is not listed, and an absolute path not listed as such', async () => {
    const run = jobRunner({ allowedCommands: ['printf', 'ls'] });
    const doc = (command: string) => ({
      version: '1.0',
      steps: [{ action: { name: 'C', type: 'runCommand', input: { command } } }],
    });
    expect(statusOf(await run(doc('rm,-rf,/tmp/x'), recordingContext().context))).toBe(
      'REJECTED: steps[0].action.input.command: "rm" is not in executor.allowedCommands (printf, ls)',
    );
    expect(statusOf(await run(doc('/tmp/evil/ls'), recordingContext().context))).toContain(
      '"/tmp/evil/ls" is not in executor.allowedCommands',
    );
    expect(statusOf(await run(doc('./ls'), recordingContext().context))).toContain(
      'must be a bare command name or an absolute path',
    );
  });
});

describe('runCommand', () => {
  it('runs a listed command found on the safe PATH, with \\, kept inside an argument', async () => {
    const run = jobRunner({ allowedCommands: ['printf'] });
    const outcome = await run(
      {
        version: '1.0',
        includeStdOut: 'true',
        steps: [
          { action: { name: 'Print', type: 'runCommand', input: { command: 'printf,%s|%s,a\\, b,c' } } },
        ],
      },
      recordingContext().context,
    );
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.statusDetails.stdout).toBe('a, b|c');
  });

  it('runs the listed absolute path for a bare name matching it', async () => {
    const run = jobRunner({ allowedCommands: ['/usr/bin/env'] });
    const outcome = await run(
      {
        version: '1.0',
        includeStdOut: true,
        steps: [{ action: { name: 'Env', type: 'runCommand', input: { command: 'env' } } }],
      },
      recordingContext().context,
    );
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.statusDetails.stdout).toContain('GGJOBS_JOB_ID=maintenance-job');
  });

  it('FAILS (not crashes) when a listed command is not installed', async () => {
    const run = jobRunner({ allowedCommands: ['no-such-tool-xyz'] });
    const outcome = await run(
      {
        version: '1.0',
        steps: [{ action: { name: 'T', type: 'runCommand', input: { command: 'no-such-tool-xyz' } } }],
      },
      recordingContext().context,
    );
    expect(statusOf(outcome)).toBe('FAILED: step "T": command "no-such-tool-xyz" not found on PATH');
  });
});

describe('resuming after a restart', () => {
  it('reports the resumable flag to onStepStart', async () => {
    const dir = await makeTempDir();
    await writeHandler(dir, 'reboot.sh', 'exit 0');
    await writeHandler(dir, 'ok.sh', 'exit 0');
    const run = jobRunner({ handlerDirectory: dir });
    const { context, started } = recordingContext();
    await run(
      {
        version: '1.0',
        steps: [
          { action: { name: 'Reboot', type: 'runHandler', input: { handler: 'reboot.sh' } } },
          runHandlerStep('Flash', 'ok.sh', { resumeAfterReboot: 'true' }),
          runHandlerStep('Check', 'ok.sh'),
        ],
      },
      context,
    );
    expect(started.map((s) => s.resumable)).toEqual([true, true, false]);
  });

  it('skips the steps before resumeFromStep and reports them as skipped', async () => {
    const dir = await makeTempDir();
    const log = join(dir, 'log');
    await stepHandlers(dir, log);
    const run = jobRunner({ handlerDirectory: dir });
    const { context, started, ended } = recordingContext({ resumeFromStep: 1 });
    const outcome = await run(
      {
        version: '1.0',
        steps: [
          runHandlerStep('Reboot', 'ok.sh', { resumeAfterReboot: true }),
          runHandlerStep('After', 'ok.sh'),
        ],
        finalStep: runHandlerStep('Z', 'ok.sh'),
      },
      context,
    );
    expect(outcome).toEqual({
      status: 'SUCCEEDED',
      statusDetails: { reason: 'all 2 steps succeeded', step: 'Z', resumedFromStep: '1' },
    });
    expect(await linesOf(log)).toEqual(['ok After', 'ok Z']);
    expect(started.map((s) => s.index)).toEqual([1, 2]);
    expect(ended[0]).toEqual({
      index: 0,
      name: 'Reboot',
      resumable: true,
      ok: true,
      skipped: true,
      reason: 'completed before the restart',
    });
  });

  it('completes an AWS-Reboot job after the restart without rebooting again', async () => {
    const dir = await makeTempDir();
    const marker = join(dir, 'rebooted');
    await writeHandler(dir, 'reboot.sh', `touch '${marker}'`);
    const run = jobRunner({ handlerDirectory: dir });
    const { context, started } = recordingContext({ resumeFromStep: 1 });
    const outcome = await run(
      {
        version: '1.0',
        steps: [
          {
            action: {
              name: 'Reboot',
              type: 'runHandler',
              input: { handler: 'reboot.sh', path: 'default' },
              runAsUser: 'root',
            },
          },
        ],
      },
      context,
    );
    expect(statusOf(outcome)).toBe('SUCCEEDED: resumed after a restart; the step had completed before it');
    expect(started).toEqual([]);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('the JobContext contract', () => {
  it('awaits onStepStart before the step has any effect', async () => {
    const dir = await makeTempDir();
    const marker = join(dir, 'effect');
    await writeHandler(dir, 'effect.sh', `touch '${marker}'`);
    const run = jobRunner({ handlerDirectory: dir });
    const seenBeforeStart: boolean[] = [];
    const { context } = recordingContext({
      async onStepStart() {
        await new Promise((resolve) => setTimeout(resolve, 50));
        seenBeforeStart.push(existsSync(marker));
      },
    });
    expect((await run(handlerDocument('effect.sh'), context)).status).toBe('SUCCEEDED');
    expect(seenBeforeStart).toEqual([false]);
    expect(existsSync(marker)).toBe(true);
  });

  it('does not run the step when onStepStart fails (the journal could not record it)', async () => {
    const dir = await makeTempDir();
    const marker = join(dir, 'effect');
    await writeHandler(dir, 'effect.sh', `touch '${marker}'`);
    const run = jobRunner({ handlerDirectory: dir });
    const { context } = recordingContext({
      async onStepStart() {
        throw new Error('disk full');
      },
    });
    await expect(run(handlerDocument('effect.sh'), context)).rejects.toThrow('disk full');
    expect(existsSync(marker)).toBe(false);
  });

  it('ignores an onStepEnd callback that throws', async () => {
    const dir = await makeTempDir();
    await writeHandler(dir, 'ok.sh', 'exit 0');
    const run = jobRunner({ handlerDirectory: dir });
    const { context } = recordingContext({
      onStepEnd() {
        throw new Error('display broke');
      },
    });
    expect((await run(handlerDocument('ok.sh'), context)).status).toBe('SUCCEEDED');
  });

  it('throws JobAbortedError without running anything when already aborted', async () => {
    const dir = await makeTempDir();
    const marker = join(dir, 'effect');
    await writeHandler(dir, 'effect.sh', `touch '${marker}'`);
    const run = jobRunner({ handlerDirectory: dir });
    const { context, controller } = recordingContext();
    controller.abort(new Error('canceled by the service'));
    const error = await run(handlerDocument('effect.sh'), context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobAbortedError);
    expect((error as JobAbortedError).code).toBe('GGJOBS_ERR_JOB_ABORTED');
    expect(existsSync(marker)).toBe(false);
  });
});
