// Step timers, progress heartbeats, TIMED_OUT and retries end to end: the agent (in-process with the
// real executor, or as a child process that is SIGKILLed) against the local stack with compressed
// job-timer minutes, jobs created with the real AWS SDK.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListJobExecutionsForThingCommand } from '@aws-sdk/client-iot';
import { afterEach, describe, expect, it } from 'vitest';
import { type Config, executorSchema } from '../../src/config/schema.js';
import { type ListenerEvent, startListener } from '../../src/jobs/listener.js';
import { buildStatusReport, formatStatusReport } from '../../src/jobs/status-report.js';
import { readJournal, journalDirectory } from '../../src/jobs/journal.js';
import { jobsTopics } from '../../src/jobs/topics.js';
import { silentLogger } from '../../src/log.js';
import { createJobRunner } from '../../src/run/runner.js';
import { createTransport } from '../../src/transport/index.js';
import { journalRecordOnDisk, listenerConfig, removeTempDirs, tempDir, waitFor } from './helpers.js';
import { type JobsStack, NAMESPACE, startJobsStack } from './stack.js';
import { safeTempDir } from '../support/safe-dir.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/listener-child.mjs', import.meta.url));
const WAIT = { timeout: 20_000, interval: 25 };
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  removeTempDirs();
});

async function stackWith(minuteMs: number): Promise<JobsStack> {
  const js = await startJobsStack('both', { minuteMs });
  cleanups.push(() => js.close());
  return js;
}

/** One runHandler step with `timeoutSeconds` (the claim's step timer: ceil((30 + 60 + 1) / 60) = 2). */
function handlerDocument(handler: string, timeoutSeconds = 30) {
  return {
    version: '1.0',
    steps: [{ action: { name: 'install', type: 'runHandler', input: { handler }, timeoutSeconds } }],
  };
}

function agentConfig(js: JobsStack, jobId: string, listen: Record<string, unknown> = {}): Config {
  const config = listenerConfig({ url: js.stack.mqttUrl, stateDirectory: tempDir(), jobId, listen });
  return { ...config, executor: executorSchema.parse({ killGraceSeconds: 1 }) };
}

/** Every UpdateJobExecution request the agent publishes, as an observer on the broker sees it. */
async function watchUpdates(js: JobsStack, config: Config): Promise<Array<Record<string, unknown>>> {
  const topics = jobsTopics({ thingName: config.thingName, jobId: config.jobId, namespaceId: NAMESPACE });
  const observer = await js.client();
  const seen: Array<Record<string, unknown>> = [];
  observer.on('message', (topic, payload) => {
    if (topic === topics.update) seen.push(JSON.parse(payload.toString('utf8')));
  });
  await observer.subscribeAsync(topics.update, { qos: 1 });
  return seen;
}

async function handlerDirectory(scripts: Record<string, string>): Promise<string> {
  // Under a trusted base: the executor refuses handler directories below /tmp.
  const dir = await safeTempDir('ggjobs-handlers-');
  cleanups.push(() => import('node:fs/promises').then((fs) => fs.rm(dir, { recursive: true, force: true })));
  await chmod(dir, 0o700);
  for (const [name, body] of Object.entries(scripts)) {
    await writeFile(join(dir, name), `#!/bin/sh\n${body}\n`);
    await chmod(join(dir, name), 0o700);
  }
  return dir;
}

async function startInProcess(config: Config, handlers: string) {
  const log = silentLogger();
  const transport = createTransport(config.transport, { thingName: config.thingName, log });
  const events: ListenerEvent[] = [];
  const runJob = createJobRunner({ ...config.executor, handlerDirectory: handlers });
  const listener = await startListener({ config, transport, runJob, log, onEvent: (e) => events.push(e) });
  cleanups.push(() => listener.stop({ graceMs: 0, flushMs: 200 }));
  return { listener, events };
}

function journalRecord(config: Config, executionNumber: number): Record<string, unknown> | undefined {
  return journalRecordOnDisk(config.stateDirectory, config, executionNumber);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

interface Child {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<unknown>;
}

function spawnAgent(config: Config, runner: string): Child {
  const configFile = join(tempDir('ggjobs-child-'), 'config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const proc = spawn(process.execPath, [FIXTURE, configFile, runner], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  proc.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  });
  return { proc, lines, exited };
}

describe('a device that dies mid-step', () => {
  it('is timed out by the step timer its claim set; the retry runs once on the restarted agent', async () => {
    // One timer minute = 1 s: the claim's 2-minute timer expires 2 s after the claim.
    const js = await stackWith(1000);
    const group = await js.thingInGroup('core-1');
    const config = agentConfig(js, 'job-kill');
    const updates = await watchUpdates(js, config);
    await js.createJob('job-kill', group, handlerDocument('install.sh'), NAMESPACE, {
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 1 }] },
    });
    const first = spawnAgent(config, 'block');
    await waitFor(() => first.lines.includes('STEP 0'), 'step 0 running');
    first.proc.kill('SIGKILL');
    await first.exited;
    // The claim asked for the step's 30 s plus the margin and kill grace, rounded up: 2 minutes.
    expect(updates[0]).toMatchObject({ status: 'IN_PROGRESS', executionNumber: 1, stepTimeoutInMinutes: 2 });

    const executions = async () =>
      (
        await js.iot.send(new ListJobExecutionsForThingCommand({ thingName: 'core-1', jobId: 'job-kill' }))
      ).executionSummaries!.map((s) => ({
        executionNumber: s.jobExecutionSummary!.executionNumber,
        status: s.jobExecutionSummary!.status,
        retryAttempt: s.jobExecutionSummary!.retryAttempt,
      }));
    await expect.poll(executions, WAIT).toEqual([
      { executionNumber: 1, status: 'TIMED_OUT', retryAttempt: 0 },
      { executionNumber: 2, status: 'QUEUED', retryAttempt: 1 },
    ]);

    const second = spawnAgent(config, 'succeed');
    await expect.poll(executions, WAIT).toEqual([
      { executionNumber: 1, status: 'TIMED_OUT', retryAttempt: 0 },
      { executionNumber: 2, status: 'SUCCEEDED', retryAttempt: 1 },
    ]);
    expect(second.lines.filter((l) => l.startsWith('RUN'))).toEqual(['RUN 2 -']);
    // The interrupted first attempt is settled in the journal with the service's verdict.
    await expect.poll(() => journalRecord(config, 1)?.note, WAIT).toMatch(/TIMED_OUT/);

    const ids = { thingName: config.thingName, jobId: config.jobId, namespaceId: NAMESPACE };
    const { records, problems } = await readJournal(config.stateDirectory, ids);
    const report = buildStatusReport(ids, journalDirectory(config.stateDirectory, ids), records, problems);
    expect(report.attempts).toBe(2);
    expect(report.executions.map((e) => [e.executionNumber, e.attempt, e.status])).toEqual([
      [2, 2, 'SUCCEEDED'],
      [1, 1, 'TIMED_OUT'],
    ]);
    expect(formatStatusReport(report)).toMatch(/attempts: 2 executions of this job on this device/);
  }, 60_000);
});

describe('progress heartbeats', () => {
  it('a long step sends heartbeats at the interval, each accepted and renewing the step timer', async () => {
    // One timer minute = 2.5 s: the claim's 2-minute timer (5 s) would expire during the 8 s step
    // without the heartbeats renewing it every second.
    const js = await stackWith(2500);
    const group = await js.thingInGroup('core-1');
    const config = agentConfig(js, 'job-beat', { progressIntervalSeconds: 1 });
    const updates = await watchUpdates(js, config);
    const handlers = await handlerDirectory({
      'install.sh': [
        'echo "::progress copying 1/3"',
        'sleep 3',
        "printf '::progress copying\\t2/3 \\033[1m\\n'",
        'echo "not progress"',
        'sleep 5',
      ].join('\n'),
    });
    const agent = await startInProcess(config, handlers);
    await js.createJob('job-beat', group, handlerDocument('install.sh'), NAMESPACE);
    await expect.poll(async () => (await js.execution('core-1', 'job-beat')).status, WAIT).toBe('SUCCEEDED');

    const beats = agent.events.filter((e) => e.type === 'heartbeat');
    expect(beats.length).toBeGreaterThanOrEqual(3);
    for (const beat of beats) {
      expect(beat.statusDetails).toMatchObject({ step: 'install', stepIndex: '0', stepCount: '1' });
      expect(Number(beat.statusDetails.elapsedSeconds)).toBeGreaterThanOrEqual(0);
    }
    const progress = beats.map((b) => b.statusDetails.progress);
    expect(progress).toContain('copying 1/3');
    expect(progress).toContain('copying 2/3 [1m');
    expect(progress.indexOf('copying 1/3')).toBeLessThan(progress.indexOf('copying 2/3 [1m'));
    // Every heartbeat renewed the step timer and was accepted: the claim, each heartbeat and the final
    // status each moved the version by one.
    // (The claim is an IN_PROGRESS update with statusDetails too: its claim id, and no step.)
    const heartbeatUpdates = updates.filter(
      (u) => u.status === 'IN_PROGRESS' && (u.statusDetails as Record<string, string> | undefined)?.step,
    );
    expect(heartbeatUpdates).toHaveLength(beats.length);
    for (const u of heartbeatUpdates) expect(u.stepTimeoutInMinutes).toBe(2);
    const final = await js.execution('core-1', 'job-beat');
    expect(final.versionNumber).toBe(1 + 1 + beats.length + 1);
    expect(final.statusDetails).toMatchObject({ reason: 'the step succeeded' });
    expect(updates.at(-1)).toMatchObject({ status: 'SUCCEEDED' });
  }, 60_000);
});

describe('heartbeats and the statusDetails the execution carries', () => {
  it('keeps keys it does not own (e.g. a claim id) in every heartbeat', async () => {
    const js = await stackWith(60_000);
    const group = await js.thingInGroup('core-1');
    const config = agentConfig(js, 'job-keep', { progressIntervalSeconds: 2 });
    const handlers = await handlerDirectory({ 'install.sh': 'sleep 5' });
    const agent = await startInProcess(config, handlers);
    await js.createJob('job-keep', group, handlerDocument('install.sh'), NAMESPACE);
    await expect
      .poll(async () => (await js.execution('core-1', 'job-keep')).status, WAIT)
      .toBe('IN_PROGRESS');
    // Another writer of the execution (what a claim with details would leave behind).
    const other = await js.client();
    const topics = jobsTopics({ thingName: 'core-1', jobId: 'job-keep', namespaceId: NAMESPACE });
    await other.publishAsync(
      topics.update,
      JSON.stringify({ status: 'IN_PROGRESS', executionNumber: 1, statusDetails: { claimId: 'c-1' } }),
      { qos: 1 },
    );
    await expect
      .poll(async () => (await js.execution('core-1', 'job-keep')).statusDetails, WAIT)
      .toEqual({
        claimId: 'c-1',
      });
    await expect.poll(async () => (await js.execution('core-1', 'job-keep')).status, WAIT).toBe('SUCCEEDED');
    const beats = agent.events.filter((e) => e.type === 'heartbeat');
    expect(beats.length).toBeGreaterThanOrEqual(1);
    for (const beat of beats) expect(beat.statusDetails).toMatchObject({ claimId: 'c-1', step: 'install' });
  }, 60_000);
});

describe('the service ends the execution while a step runs', () => {
  it('TIMED_OUT: the step process group is killed and nothing more is sent', async () => {
    const js = await stackWith(1000);
    const group = await js.thingInGroup('core-1');
    const config = agentConfig(js, 'job-hang', { progressIntervalSeconds: 0 });
    const pids = join(tempDir(), 'pids');
    const handlers = await handlerDirectory({
      'hang.sh': `sleep 300 &\necho "$$ $!" > ${pids}\nwait`,
    });
    await startInProcess(config, handlers);
    await js.createJob('job-hang', group, handlerDocument('hang.sh'), NAMESPACE);
    const [shell, sleeper] = (
      await waitFor(() => {
        try {
          const text = readFileSync(pids, 'utf8').trim();
          return text.includes(' ') ? text : undefined;
        } catch {
          return undefined;
        }
      }, 'handler started')
    )
      .split(' ')
      .map(Number) as [number, number];

    await expect.poll(async () => (await js.execution('core-1', 'job-hang')).status, WAIT).toBe('TIMED_OUT');
    await expect.poll(() => journalRecord(config, 1)?.phase, WAIT).toBe('cancelled');
    await expect.poll(() => alive(shell) || alive(sleeper), WAIT).toBe(false);
    expect(String(journalRecord(config, 1)?.note)).toMatch(/TerminalStateReached|TIMED_OUT/);
    // Only the claim was ever sent for it: no heartbeat, no FAILED after the time-out.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(js.stack.requestCount('data:UpdateJobExecution')).toBe(1);
    expect((await js.execution('core-1', 'job-hang')).status).toBe('TIMED_OUT');
  }, 60_000);
});
