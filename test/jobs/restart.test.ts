// The agent as a separate process that is killed (SIGKILL) and started again: what the journal
// keeps across the crash decides what happens next. Uses the compiled dist/ (test global setup).
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { journalRecordOnDisk, listenerConfig, removeTempDirs, tempDir, waitFor } from './helpers.js';
import { type JobsStack, startJobsStack } from './stack.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/listener-child.mjs', import.meta.url));
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  removeTempDirs();
});

interface Child {
  proc: ChildProcess;
  lines: string[];
  stderr: string[];
  exited: Promise<number | null>;
}

function spawnAgent(config: Config, runner: string): Child {
  const configFile = join(tempDir('ggjobs-child-'), 'config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const proc = spawn(process.execPath, [FIXTURE, configFile, runner], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const stderr: string[] = [];
  proc.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  proc.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  });
  return { proc, lines, stderr, exited };
}

async function kill(child: Child): Promise<void> {
  child.proc.kill('SIGKILL');
  await child.exited;
}

const hasLine = (child: Child, pattern: RegExp, what: string) =>
  waitFor(() => {
    if (child.proc.exitCode !== null) throw new Error(`agent exited early: ${child.stderr.join('')}`);
    return child.lines.find((l) => pattern.test(l));
  }, what);

function journal(config: Config, executionNumber: number): Record<string, unknown> | undefined {
  return journalRecordOnDisk(config.stateDirectory, config, executionNumber);
}

async function setup(jobId: string): Promise<{ js: JobsStack; config: Config }> {
  const js = await startJobsStack('both');
  cleanups.push(() => js.close());
  await js.createJob(jobId, await js.thingInGroup('core-1'));
  const config = listenerConfig({
    url: js.stack.mqttUrl,
    stateDirectory: tempDir(),
    jobId,
    listen: { requestRetries: 1 },
  });
  return { js, config };
}

describe('agent process killed and restarted', () => {
  it('reports an execution interrupted mid-step as FAILED interrupted and never runs it again', async () => {
    const { js, config } = await setup('job-k');
    const first = spawnAgent(config, 'block');
    const run = await hasLine(first, /^RUN /, 'first run');
    const n = Number(run.split(' ')[1]);
    await hasLine(first, /^STEP 0$/, 'step 0 journaled');
    await kill(first);
    expect(journal(config, n)).toMatchObject({ phase: 'started', lastStep: { index: 0, name: 'install' } });
    expect((await js.execution('core-1', 'job-k')).status).toBe('IN_PROGRESS');

    const second = spawnAgent(config, 'block');
    await hasLine(second, /^READY$/, 'second agent ready');
    const e = await waitFor(async () => {
      const x = await js.execution('core-1', 'job-k');
      return x.status === 'FAILED' ? x : undefined;
    }, 'FAILED');
    expect(e.statusDetails).toEqual({ reason: 'interrupted', step: 'install', stepIndex: '0' });
    await waitFor(() => journal(config, n)?.phase === 'reported', 'reported in journal');
    expect(second.lines.filter((l) => l.startsWith('RUN'))).toEqual([]);
  });

  it('resumes after a resumable step instead of failing', async () => {
    const { js, config } = await setup('job-r');
    const first = spawnAgent(config, 'resumable');
    const run = await hasLine(first, /^RUN /, 'first run');
    const n = Number(run.split(' ')[1]);
    await hasLine(first, /^STEP 0$/, 'step 0 journaled');
    await kill(first);

    const second = spawnAgent(config, 'resumable');
    await hasLine(second, new RegExp(`^RUN ${n} 1$`), 'resumed run from step 1');
    const e = await waitFor(async () => {
      const x = await js.execution('core-1', 'job-r');
      return x.status === 'SUCCEEDED' ? x : undefined;
    }, 'SUCCEEDED');
    expect(e.statusDetails).toEqual({ reason: 'resumed', from: '1' });
    expect(second.lines.filter((l) => l.startsWith('RUN'))).toEqual([`RUN ${n} 1`]);
  });

  it('keeps an undelivered final status in the outbox across a restart and delivers it once', async () => {
    const { js, config } = await setup('job-x');
    const first = spawnAgent(config, 'stdin');
    const run = await hasLine(first, /^RUN /, 'first run');
    const n = Number(run.split(' ')[1]);
    // From now on the service throttles every update: the final status cannot get through.
    js.stack.setRateLimit('data:UpdateJobExecution', { ratePerSecond: 0 });
    const updatesBefore = js.stack.requestCount('data:UpdateJobExecution');
    first.proc.stdin!.write('go\n');
    await waitFor(() => journal(config, n)?.phase === 'finished', 'status in the outbox');
    // The first send and its retry were throttled, then the outbox retried at least once more.
    await waitFor(
      () => js.stack.requestCount('data:UpdateJobExecution') >= updatesBefore + 3,
      'outbox retries',
    );
    await kill(first);
    expect((await js.execution('core-1', 'job-x')).status).toBe('IN_PROGRESS');
    expect(journal(config, n)).toMatchObject({
      outcome: { status: 'SUCCEEDED', statusDetails: { reason: 'released' } },
    });

    js.stack.setRateLimit('data:UpdateJobExecution', undefined);
    const second = spawnAgent(config, 'succeed');
    const e = await waitFor(async () => {
      const x = await js.execution('core-1', 'job-x');
      return x.status === 'SUCCEEDED' ? x : undefined;
    }, 'SUCCEEDED');
    expect(e.statusDetails).toEqual({ reason: 'released' });
    await waitFor(() => journal(config, n)?.phase === 'reported', 'reported in journal');
    expect(second.lines.filter((l) => l.startsWith('RUN'))).toEqual([]);
  });

  it('stops on SIGTERM, reporting a job that outlives the grace period as interrupted', async () => {
    const { js, config } = await setup('job-t');
    const child = spawnAgent(config, 'block');
    await hasLine(child, /^STEP 0$/, 'step 0 journaled');
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    const e = await js.execution('core-1', 'job-t');
    expect(e.status).toBe('FAILED');
    expect(e.statusDetails).toMatchObject({
      reason: 'interrupted',
      step: 'install',
      detail: 'agent stopped',
    });
  });
});
