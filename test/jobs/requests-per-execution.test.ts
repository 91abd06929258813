// The Jobs requests one execution costs the device: IN_PROGRESS and the final status, and at most one
// describe (none when notify-next brings the execution with its document), never one after the final
// status. Counted by the local stack's data plane; the agent is the stack's only client.
import { afterEach, describe, expect, it } from 'vitest';
import { type ListenerEvent, startListener } from '../../src/jobs/listener.js';
import { silentLogger } from '../../src/log.js';
import type { RunJob } from '../../src/run/types.js';
import { createTransport } from '../../src/transport/index.js';
import { listenerConfig, removeTempDirs, tempDir, waitFor } from './helpers.js';
import { type JobsStack, startJobsStack } from './stack.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  removeTempDirs();
});

const DESCRIBE = 'data:DescribeJobExecution';
const UPDATE = 'data:UpdateJobExecution';

async function runOneExecution(mode: 'both' | 'observed', notifyTopics: Record<string, boolean>) {
  const js: JobsStack = await startJobsStack(mode);
  cleanups.push(() => js.close());
  const group = await js.thingInGroup('core-1');
  const config = listenerConfig({
    url: js.stack.mqttUrl,
    stateDirectory: tempDir(),
    jobId: 'job-r',
    listen: { notifyTopics },
  });
  const log = silentLogger();
  const transport = createTransport(config.transport, { thingName: config.thingName, log });
  const events: ListenerEvent[] = [];
  const documents: unknown[] = [];
  const runJob: RunJob = async (document) => {
    documents.push(document);
    return { status: 'SUCCEEDED', statusDetails: { reason: 'done' } };
  };
  const listener = await startListener({ config, transport, runJob, log, onEvent: (e) => events.push(e) });
  cleanups.push(() => listener.stop({ graceMs: 0, flushMs: 200 }));
  await waitFor(() => events.some((e) => e.type === 'synced'), 'first describe');
  const before = { describes: js.stack.requestCount(DESCRIBE), updates: js.stack.requestCount(UPDATE) };
  const document = { version: '1.0', steps: [], note: mode };
  await js.createJob('job-r', group, document);
  await waitFor(
    () => events.some((e) => e.type === 'transition' && e.to === 'reported'),
    'final status accepted',
  );
  // The notifications that follow the final status (the execution left the pending list) are in.
  const reportedAt = events.findIndex((e) => e.type === 'transition' && e.to === 'reported');
  await waitFor(
    () => events.slice(reportedAt).some((e) => e.type === 'notification' && !e.mentionsJob),
    'notification after the final status',
  );
  await listener.stop({ graceMs: 0, flushMs: 200 });
  expect(documents).toEqual([document]);
  expect((await js.execution('core-1', 'job-r')).status).toBe('SUCCEEDED');
  return {
    describes: js.stack.requestCount(DESCRIBE) - before.describes,
    updates: js.stack.requestCount(UPDATE) - before.updates,
  };
}

describe('requests per execution', () => {
  it('every notification form on: IN_PROGRESS, the final status and one describe', async () => {
    const counts = await runOneExecution('both', { perJob: true, thing: true, thingNext: true });
    expect(counts.updates).toBe(2);
    expect(counts.describes).toBeLessThanOrEqual(1);
  });

  it('notify-next alone brings the execution with its document: no describe at all', async () => {
    const counts = await runOneExecution('observed', { perJob: false, thing: false, thingNext: true });
    expect(counts).toEqual({ describes: 0, updates: 2 });
  });

  it('the thing-level list alone: the one describe fetches the document', async () => {
    const counts = await runOneExecution('observed', { perJob: false, thing: true, thingNext: false });
    expect(counts).toEqual({ describes: 1, updates: 2 });
  });
});
