// The listener against the local AWS IoT stack (real aedes broker, real Jobs data plane, jobs created
// with the AWS SDK), with the mqtt.js transport. Process-crossing behaviour is in restart.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { type Listener, type ListenerEvent, startListener } from '../../src/jobs/listener.js';
import { jobsTopics } from '../../src/jobs/topics.js';
import { silentLogger } from '../../src/log.js';
import type { JobContext, JobOutcome, RunJob } from '../../src/run/types.js';
import { createTransport } from '../../src/transport/index.js';
import type { Transport } from '../../src/transport/types.js';
import {
  captureLogger,
  journalRecordOnDisk,
  listenerConfig,
  removeTempDirs,
  tempDir,
  waitFor,
} from './helpers.js';
import { DOCUMENT, type JobsStack, NAMESPACE, startJobsStack } from './stack.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  removeTempDirs();
});

async function stackWith(mode: 'documented' | 'observed' | 'both' = 'both'): Promise<JobsStack> {
  const js = await startJobsStack(mode);
  cleanups.push(() => js.close());
  return js;
}

interface Agent {
  listener: Listener;
  events: ListenerEvent[];
  config: Config;
  transport: Transport;
}

async function startAgent(
  js: JobsStack,
  options: {
    thingName: string;
    jobId: string;
    runJob: RunJob;
    listen?: Record<string, unknown>;
    stateDirectory?: string;
    log?: ReturnType<typeof silentLogger>;
  },
): Promise<Agent> {
  const config = listenerConfig({
    url: js.stack.mqttUrl,
    stateDirectory: options.stateDirectory ?? tempDir(),
    thingName: options.thingName,
    jobId: options.jobId,
    listen: options.listen,
  });
  const log = options.log ?? silentLogger();
  const transport = createTransport(config.transport, { thingName: config.thingName, log });
  const events: ListenerEvent[] = [];
  const listener = await startListener({
    config,
    transport,
    runJob: options.runJob,
    log,
    onEvent: (e) => events.push(e),
  });
  cleanups.push(() => listener.stop({ graceMs: 0, flushMs: 200 }));
  return { listener, events, config, transport };
}

/** A runner that journals one step and waits until released (or aborted). */
function gatedRunner(outcome: JobOutcome = { status: 'SUCCEEDED', statusDetails: { reason: 'done' } }) {
  const calls: JobContext[] = [];
  const documents: unknown[] = [];
  const aborts: unknown[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  const runJob: RunJob = async (document, context) => {
    calls.push(context);
    documents.push(document);
    await context.onStepStart({ index: 0, name: 'work', resumable: false });
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        aborts.push(context.signal.reason);
        reject(new Error(`aborted: ${String(context.signal.reason)}`));
      };
      if (context.signal.aborted) onAbort();
      context.signal.addEventListener('abort', onAbort, { once: true });
      released.then(resolve, reject);
    });
    return outcome;
  };
  return { runJob, calls, documents, aborts, release };
}

function instantRunner(outcome: JobOutcome = { status: 'SUCCEEDED', statusDetails: { reason: 'done' } }) {
  const calls: JobContext[] = [];
  const runJob: RunJob = async (_document, context) => {
    calls.push(context);
    return outcome;
  };
  return { runJob, calls };
}

const synced = (a: Agent) => waitFor(() => a.events.some((e) => e.type === 'synced'), 'first describe');
const statusIs = (js: JobsStack, thing: string, job: string, status: string) =>
  waitFor(async () => {
    const e = await js.execution(thing, job).catch(() => undefined);
    return e?.status === status ? e : undefined;
  }, `execution ${status}`);

function journalRecord(agent: Agent, executionNumber: number): Record<string, unknown> | undefined {
  return journalRecordOnDisk(agent.config.stateDirectory, agent.config, executionNumber);
}

describe('listener: notifications', () => {
  const cases: Array<[mode: 'documented' | 'observed', forms: Record<string, boolean>, expected: string[]]> =
    [
      ['documented', { perJob: true, thing: true, thingNext: true }, ['perJob']],
      ['documented', { perJob: true, thing: false, thingNext: false }, ['perJob']],
      ['observed', { perJob: true, thing: true, thingNext: true }, ['thing', 'thingNext']],
      ['observed', { perJob: false, thing: true, thingNext: false }, ['thing']],
      ['observed', { perJob: false, thing: false, thingNext: true }, ['thingNext']],
    ];
  it.each(cases)(
    'stack notifies %s, agent listens to %o: runs the new job once',
    async (mode, forms, expected) => {
      const js = await stackWith(mode);
      const group = await js.thingInGroup('core-1');
      const runner = instantRunner({ status: 'SUCCEEDED', statusDetails: { reason: 'done', mode } });
      const agent = await startAgent(js, {
        thingName: 'core-1',
        jobId: 'job-a',
        runJob: runner.runJob,
        listen: { notifyTopics: forms },
      });
      await synced(agent);
      await js.createJob('job-a', group);
      const e = await statusIs(js, 'core-1', 'job-a', 'SUCCEEDED');
      expect(e.statusDetails).toEqual({ reason: 'done', mode });
      expect(runner.calls.map((c) => [c.jobId, c.namespaceId, c.thingName, c.executionNumber])).toEqual([
        ['job-a', NAMESPACE, 'core-1', e.executionNumber],
      ]);
      const seen = new Set(agent.events.flatMap((ev) => (ev.type === 'notification' ? [ev.form] : [])));
      expect([...seen].sort()).toEqual(expected);
      const record = await waitFor(() => {
        const r = journalRecord(agent, e.executionNumber!);
        return r?.phase === 'reported' ? r : undefined;
      }, 'reported in the journal');
      expect(record).toMatchObject({
        outcome: { status: 'SUCCEEDED', statusDetails: { reason: 'done', mode } },
      });
    },
  );

  it('picks up a job queued while it was not running (offline catch-up)', async () => {
    const js = await stackWith();
    await js.createJob('job-b', await js.thingInGroup('core-1'));
    const runner = gatedRunner();
    await startAgent(js, { thingName: 'core-1', jobId: 'job-b', runJob: runner.runJob });
    await waitFor(() => runner.calls.length === 1, 'runner call');
    expect(runner.documents).toEqual([DOCUMENT]);
    expect((await js.execution('core-1', 'job-b')).status).toBe('IN_PROGRESS');
    runner.release();
    await statusIs(js, 'core-1', 'job-b', 'SUCCEEDED');
  });

  it('ignores executions of other jobs on the thing-level topics', async () => {
    const js = await stackWith('observed');
    const group = await js.thingInGroup('core-1');
    const captured = captureLogger();
    const runner = instantRunner();
    const agent = await startAgent(js, {
      thingName: 'core-1',
      jobId: 'mine',
      runJob: runner.runJob,
      log: captured.log,
    });
    await synced(agent);
    await js.createJob('someone-elses', group);
    await waitFor(() => captured.messages().includes("ignoring other jobs' executions"), 'debug line');
    expect(runner.calls).toHaveLength(0);
    expect((await js.execution('core-1', 'someone-elses')).status).toBe('QUEUED');
  });

  it('finds a job through the poll when no notification it listens to is published', async () => {
    const js = await stackWith('observed');
    const group = await js.thingInGroup('core-1');
    const runner = instantRunner();
    const agent = await startAgent(js, {
      thingName: 'core-1',
      jobId: 'job-p',
      runJob: runner.runJob,
      listen: { notifyTopics: { perJob: true, thing: false, thingNext: false }, pollIntervalSeconds: 1 },
    });
    await synced(agent);
    await js.createJob('job-p', group);
    await statusIs(js, 'core-1', 'job-p', 'SUCCEEDED');
    expect(agent.events.filter((e) => e.type === 'notification')).toEqual([]);
    expect(runner.calls).toHaveLength(1);
  });
});

describe('listener: exactly once', () => {
  it('runs once however often the notifications are repeated, during and after the run', async () => {
    const js = await stackWith('both');
    const group = await js.thingInGroup('core-1');
    const t = jobsTopics({ thingName: 'core-1', jobId: 'job-d', namespaceId: NAMESPACE });
    const observer = await js.client();
    const notifications: Array<[string, Buffer]> = [];
    observer.on('message', (topic, payload) => notifications.push([topic, payload]));
    await observer.subscribeAsync([t.notifyPerJob, t.notifyThing, t.notifyThingNext], { qos: 1 });
    const runner = gatedRunner();
    const agent = await startAgent(js, { thingName: 'core-1', jobId: 'job-d', runJob: runner.runJob });
    await synced(agent);
    await js.createJob('job-d', group);
    await waitFor(() => runner.calls.length === 1, 'runner call');
    const republish = async () => {
      const copies = [...notifications];
      const before = agent.events.filter((e) => e.type === 'notification').length;
      for (let i = 0; i < 3; i++) {
        for (const [topic, payload] of copies) await observer.publishAsync(topic, payload, { qos: 1 });
      }
      await waitFor(
        () => agent.events.filter((e) => e.type === 'notification').length >= before + 3 * copies.length,
        'republished notifications at the agent',
      );
    };
    await republish();
    runner.release();
    const e = await statusIs(js, 'core-1', 'job-d', 'SUCCEEDED');
    await waitFor(
      () => journalRecord(agent, e.executionNumber!)?.phase === 'reported',
      'reported in journal',
    );
    const describesBefore = js.stack.requestCount('data:DescribeJobExecution');
    await republish();
    await waitFor(
      () => js.stack.requestCount('data:DescribeJobExecution') > describesBefore,
      'describes after repeat',
    );
    await agent.listener.sync();
    expect(runner.calls).toHaveLength(1);
    // One IN_PROGRESS and one SUCCEEDED, nothing more.
    expect(js.stack.requestCount('data:UpdateJobExecution')).toBe(2);
  });

  it('re-sends the final status with the service version after VersionMismatch', async () => {
    const js = await stackWith();
    const group = await js.thingInGroup('core-1');
    const t = jobsTopics({ thingName: 'core-1', jobId: 'job-v', namespaceId: NAMESPACE });
    const meddler = await js.client();
    const runner = gatedRunner({ status: 'SUCCEEDED', statusDetails: { reason: 'after-mismatch' } });
    const agent = await startAgent(js, { thingName: 'core-1', jobId: 'job-v', runJob: runner.runJob });
    // Replies go only to the requesting connection (as on AWS IoT): watch them on the agent's own.
    const rejections: Array<Record<string, unknown>> = [];
    await agent.transport.subscribe(t.updateRejected, (_topic, payload) =>
      rejections.push(JSON.parse(payload.toString()) as Record<string, unknown>),
    );
    await js.createJob('job-v', group);
    await waitFor(() => runner.calls.length === 1, 'runner call');
    const before = await js.execution('core-1', 'job-v');
    // Someone else touches the execution while the job runs: its version moves on.
    await meddler.publishAsync(
      t.update,
      JSON.stringify({ status: 'IN_PROGRESS', statusDetails: { progress: '50' } }),
      {
        qos: 1,
      },
    );
    await waitFor(
      async () => (await js.execution('core-1', 'job-v')).versionNumber === before.versionNumber! + 1,
      'bump',
    );
    runner.release();
    const e = await statusIs(js, 'core-1', 'job-v', 'SUCCEEDED');
    expect(e.statusDetails).toEqual({ reason: 'after-mismatch' });
    expect(rejections.map((r) => r.code)).toEqual(['VersionMismatch']);
    expect(runner.calls).toHaveLength(1);
  });
});

describe('listener: outages and cancellation', () => {
  it('keeps the final status through a broker outage and delivers it after reconnecting', async () => {
    const js = await stackWith();
    const group = await js.thingInGroup('core-1');
    const runner = gatedRunner({ status: 'SUCCEEDED', statusDetails: { reason: 'through-outage' } });
    const agent = await startAgent(js, { thingName: 'core-1', jobId: 'job-o', runJob: runner.runJob });
    await js.createJob('job-o', group);
    await waitFor(() => runner.calls.length === 1, 'runner call');
    const n = runner.calls[0]!.executionNumber;
    await js.stack.stopBroker();
    await waitFor(() => !agent.transport.connected, 'agent offline');
    runner.release();
    await waitFor(() => journalRecord(agent, n)?.phase === 'finished', 'status in the outbox');
    expect((await js.execution('core-1', 'job-o')).status).toBe('IN_PROGRESS');
    await js.stack.startBroker();
    const e = await statusIs(js, 'core-1', 'job-o', 'SUCCEEDED');
    expect(e.statusDetails).toEqual({ reason: 'through-outage' });
    await waitFor(() => journalRecord(agent, n)?.phase === 'reported', 'reported in journal');
    expect(runner.calls).toHaveLength(1);
  });

  it('aborts the runner when the execution is cancelled with force, and reports nothing', async () => {
    const js = await stackWith();
    const group = await js.thingInGroup('core-1');
    const runner = gatedRunner();
    const agent = await startAgent(js, { thingName: 'core-1', jobId: 'job-c', runJob: runner.runJob });
    await js.createJob('job-c', group);
    await waitFor(() => runner.calls.length === 1, 'runner call');
    const updates = js.stack.requestCount('data:UpdateJobExecution');
    await js.cancel('core-1', 'job-c', true);
    await waitFor(() => runner.aborts.length === 1, 'abort');
    expect(runner.aborts).toEqual(['cancelled']);
    const n = runner.calls[0]!.executionNumber;
    await waitFor(() => journalRecord(agent, n)?.phase === 'cancelled', 'cancelled in journal');
    await agent.listener.sync();
    expect((await js.execution('core-1', 'job-c')).status).toBe('CANCELED');
    expect(js.stack.requestCount('data:UpdateJobExecution')).toBe(updates);
  });

  it('ignores malformed payloads on every subscribed topic and keeps working', async () => {
    const js = await stackWith();
    const group = await js.thingInGroup('core-1');
    const captured = captureLogger();
    const runner = instantRunner();
    const agent = await startAgent(js, {
      thingName: 'core-1',
      jobId: 'job-m',
      runJob: runner.runJob,
      log: captured.log,
    });
    await synced(agent);
    const t = jobsTopics({ thingName: 'core-1', jobId: 'job-m', namespaceId: NAMESPACE });
    const rogue = await js.client();
    const garbage = [
      'not json',
      '[]',
      '{"jobs":5}',
      '{"execution":{"jobId":7}}',
      'x'.repeat(200_000),
      '\u0000\u0001',
    ];
    for (const topic of [
      t.notifyPerJob,
      t.notifyThing,
      t.notifyThingNext,
      t.getAccepted,
      t.getRejected,
      t.updateAccepted,
      t.updateRejected,
    ]) {
      for (const g of garbage) await rogue.publishAsync(topic, g, { qos: 1 });
    }
    await waitFor(() => agent.events.filter((e) => e.type === 'ignoredPayload').length >= 10, 'garbage seen');
    expect(captured.messages()).toContain('ignoring malformed notification');
    await js.createJob('job-m', group);
    await statusIs(js, 'core-1', 'job-m', 'SUCCEEDED');
    expect(runner.calls).toHaveLength(1);
  });

  it('sanitizes statusDetails so the service accepts the final status', async () => {
    const js = await stackWith();
    const group = await js.thingInGroup('core-1');
    const details: Record<string, string> = { reason: 'all good\nreally' };
    for (let i = 0; i < 14; i++) details[`key ${i}!`] = `${'v'.repeat(3000)}\t${i}`;
    details.empty = '';
    const runner = instantRunner({ status: 'SUCCEEDED', statusDetails: details });
    await startAgent(js, { thingName: 'core-1', jobId: 'job-s', runJob: runner.runJob });
    await js.createJob('job-s', group);
    const e = await statusIs(js, 'core-1', 'job-s', 'SUCCEEDED');
    const got = e.statusDetails!;
    expect(Object.keys(got)).toHaveLength(10);
    expect(got.reason).toBe('all good really');
    for (const [k, v] of Object.entries(got)) {
      expect(k).toMatch(/^[a-zA-Z0-9:_-]{1,128}$/);
      expect(v).toMatch(/^[^\p{C}]{1,1024}$/u);
    }
  });
});

describe('listener: graceful stop', () => {
  it('lets a running job finish within the grace period and reports it', async () => {
    const js = await stackWith();
    const group = await js.thingInGroup('core-1');
    const runner = gatedRunner({ status: 'SUCCEEDED', statusDetails: { reason: 'finished-in-grace' } });
    const agent = await startAgent(js, { thingName: 'core-1', jobId: 'job-g', runJob: runner.runJob });
    await js.createJob('job-g', group);
    await waitFor(() => runner.calls.length === 1, 'runner call');
    const stopping = agent.listener.stop({ graceMs: 30_000, flushMs: 5_000 });
    runner.release();
    await stopping;
    expect(agent.transport.connected).toBe(false);
    expect((await js.execution('core-1', 'job-g')).statusDetails).toEqual({ reason: 'finished-in-grace' });
    expect(runner.aborts).toEqual([]);
  });

  it('aborts a job that outlives the grace period and reports it FAILED interrupted', async () => {
    const js = await stackWith();
    const group = await js.thingInGroup('core-1');
    const runner = gatedRunner();
    const agent = await startAgent(js, { thingName: 'core-1', jobId: 'job-h', runJob: runner.runJob });
    await js.createJob('job-h', group);
    await waitFor(() => runner.calls.length === 1, 'runner call');
    await agent.listener.stop({ graceMs: 100, flushMs: 5_000 });
    expect(runner.aborts).toEqual(['stopping']);
    const e = await js.execution('core-1', 'job-h');
    expect(e.status).toBe('FAILED');
    expect(e.statusDetails).toEqual({
      reason: 'interrupted',
      step: 'work',
      stepIndex: '0',
      detail: 'agent stopped',
    });
    expect(journalRecord(agent, runner.calls[0]!.executionNumber)?.phase).toBe('reported');
  });
});
