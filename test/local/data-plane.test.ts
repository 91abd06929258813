// The Jobs MQTT data plane on namespaced topics, driven by a real mqtt.js client; jobs are created
// through the real AWS SDK against the stack's control plane.
import { CancelJobCommand, type IoTClient } from '@aws-sdk/client-iot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../src/local/index.js';
import { connectClient, createQueuedJob, iotClient, type TestClient } from './stack-helpers.js';

const NS = 'ggjobs';
const nsTopic = (thing: string, job: string, op: 'get' | 'update') =>
  `$aws/things/${thing}/jobs/${job}/namespace-${NS}/${op}`;

let stack: LocalStack;
let iot: IoTClient;
let device: TestClient;

beforeEach(async () => {
  stack = await startLocalStack({ mqttPort: 0, httpPort: 0 });
  iot = iotClient(stack);
  device = await connectClient(stack);
});

afterEach(async () => {
  await device?.end();
  iot?.destroy();
  await stack?.close();
});

/** Integer epoch seconds within a day of now: catches milliseconds and non-integers. */
function expectEpochSeconds(value: unknown): void {
  expect(Number.isInteger(value)).toBe(true);
  expect(Math.abs((value as number) - Date.now() / 1000)).toBeLessThan(86_400);
}

describe('DescribeJobExecution (namespaced)', () => {
  it('returns the execution with its job document and echoes the clientToken', async () => {
    const document = { operation: 'install', version: '1.2.3' };
    const job = await createQueuedJob(iot, { namespaceId: NS, document });
    const reply = await device.request(nsTopic(job.thingName, job.jobId, 'get'), { clientToken: 'tok-1' });
    expect(reply.outcome).toBe('accepted');
    expect(reply.body.clientToken).toBe('tok-1');
    expectEpochSeconds(reply.body.timestamp);
    const execution = reply.body.execution as Record<string, unknown>;
    expect(execution).toMatchObject({
      jobId: job.jobId,
      thingName: job.thingName,
      status: 'QUEUED',
      versionNumber: 1,
      executionNumber: 1,
      jobDocument: document,
    });
    expectEpochSeconds(execution.queuedAt);
    expectEpochSeconds(execution.lastUpdatedAt);
    expect(execution).not.toHaveProperty('startedAt');
  });

  it('describes $next, and answers without execution once nothing is pending', async () => {
    const job = await createQueuedJob(iot, { namespaceId: NS });
    const next = await device.request(nsTopic(job.thingName, '$next', 'get'), {});
    expect(next.outcome).toBe('accepted');
    expect(next.body.execution).toMatchObject({ jobId: job.jobId, status: 'QUEUED' });
    expect(next.body).not.toHaveProperty('clientToken');

    await device.request(nsTopic(job.thingName, job.jobId, 'update'), { status: 'IN_PROGRESS' });
    await device.request(nsTopic(job.thingName, job.jobId, 'update'), { status: 'SUCCEEDED' });
    const none = await device.request(nsTopic(job.thingName, '$next', 'get'), { clientToken: 'tok-2' });
    expect(none.outcome).toBe('accepted');
    expect(none.body).not.toHaveProperty('execution');
    expect(none.body.clientToken).toBe('tok-2');
  });

  it('leaves the job document out when includeJobDocument is false', async () => {
    const job = await createQueuedJob(iot, { namespaceId: NS });
    for (const jobId of [job.jobId, '$next']) {
      const reply = await device.request(nsTopic(job.thingName, jobId, 'get'), { includeJobDocument: false });
      expect(reply.outcome).toBe('accepted');
      expect(reply.body.execution).toMatchObject({ jobId: job.jobId });
      expect(reply.body.execution).not.toHaveProperty('jobDocument');
    }
  });

  it('answers TerminalStateReached when the execution is in a terminal status', async () => {
    const job = await createQueuedJob(iot, { namespaceId: NS });
    await device.request(nsTopic(job.thingName, job.jobId, 'update'), { status: 'REJECTED' });
    const reply = await device.request(nsTopic(job.thingName, job.jobId, 'get'), { clientToken: 'tsr' });
    expect(reply.outcome).toBe('rejected');
    expect(reply.body).toMatchObject({ code: 'TerminalStateReached', clientToken: 'tsr' });
    expect(reply.body).not.toHaveProperty('executionState');
    expectEpochSeconds(reply.body.timestamp);
  });

  it('answers ResourceNotFound for an unknown job, an unknown thing and a job of another namespace', async () => {
    const job = await createQueuedJob(iot, { namespaceId: NS });
    const other = await createQueuedJob(iot, { namespaceId: 'other-ns' });
    const cases = [
      nsTopic(job.thingName, 'no-such-job', 'get'),
      nsTopic('no-such-thing', job.jobId, 'get'),
      nsTopic(other.thingName, other.jobId, 'get'),
      nsTopic(job.thingName, 'no-such-job', 'update'),
    ];
    for (const topic of cases) {
      const reply = await device.request(topic, { clientToken: 'nf', status: 'IN_PROGRESS' });
      expect(reply.outcome, topic).toBe('rejected');
      expect(reply.body).toMatchObject({ code: 'ResourceNotFound', clientToken: 'nf' });
      expect(reply.body).not.toHaveProperty('executionState');
      expectEpochSeconds(reply.body.timestamp);
    }
  });
});

describe('UpdateJobExecution (namespaced)', () => {
  it('accepts updates, increments versionNumber and returns state and document only when asked', async () => {
    const document = { operation: 'reboot' };
    const job = await createQueuedJob(iot, { namespaceId: NS, document });
    const topic = nsTopic(job.thingName, job.jobId, 'update');

    const started = await device.request(topic, {
      status: 'IN_PROGRESS',
      statusDetails: { step: 'downloading' },
      expectedVersion: 1,
      includeJobExecutionState: true,
      clientToken: 'u1',
    });
    expect(started.outcome).toBe('accepted');
    expect(started.body).toMatchObject({
      clientToken: 'u1',
      executionState: { status: 'IN_PROGRESS', statusDetails: { step: 'downloading' }, versionNumber: 2 },
    });
    expect(started.body).not.toHaveProperty('jobDocument');

    const described = await device.request(nsTopic(job.thingName, job.jobId, 'get'), {});
    const execution = described.body.execution as Record<string, unknown>;
    expect(execution).toMatchObject({
      status: 'IN_PROGRESS',
      versionNumber: 2,
      statusDetails: { step: 'downloading' },
    });
    expectEpochSeconds(execution.startedAt);

    const done = await device.request(topic, { status: 'SUCCEEDED', includeJobDocument: true });
    expect(done.outcome).toBe('accepted');
    expect(done.body.jobDocument).toEqual(document);
    expect(done.body).not.toHaveProperty('executionState');
    expect(done.body).not.toHaveProperty('clientToken');
    expectEpochSeconds(done.body.timestamp);

    const after = await device.request(nsTopic(job.thingName, job.jobId, 'get'), {});
    expect(after.body).toMatchObject({ code: 'TerminalStateReached' });
  });

  it('answers VersionMismatch with the current execution state when expectedVersion is stale', async () => {
    const job = await createQueuedJob(iot, { namespaceId: NS });
    const topic = nsTopic(job.thingName, job.jobId, 'update');
    await device.request(topic, { status: 'IN_PROGRESS', statusDetails: { step: 'a' } });
    const reply = await device.request(topic, { status: 'SUCCEEDED', expectedVersion: 1, clientToken: 'v' });
    expect(reply.outcome).toBe('rejected');
    expect(reply.body).toMatchObject({
      code: 'VersionMismatch',
      clientToken: 'v',
      executionState: { status: 'IN_PROGRESS', statusDetails: { step: 'a' }, versionNumber: 2 },
    });
    expect(typeof reply.body.message).toBe('string');
  });

  it('answers InvalidStateTransition with the execution state, also for a terminal execution', async () => {
    const job = await createQueuedJob(iot, { namespaceId: NS });
    const topic = nsTopic(job.thingName, job.jobId, 'update');
    const skipped = await device.request(topic, { status: 'SUCCEEDED' });
    expect(skipped.outcome).toBe('rejected');
    expect(skipped.body).toMatchObject({
      code: 'InvalidStateTransition',
      executionState: { status: 'QUEUED', versionNumber: 1 },
    });

    await device.request(topic, { status: 'IN_PROGRESS' });
    await device.request(topic, { status: 'FAILED' });
    const again = await device.request(topic, { status: 'IN_PROGRESS', clientToken: 'late' });
    expect(again.outcome).toBe('rejected');
    expect(again.body).toMatchObject({
      code: 'InvalidStateTransition',
      clientToken: 'late',
      executionState: { status: 'FAILED', versionNumber: 3 },
    });
  });

  it('refuses updates of a cancelled execution', async () => {
    const job = await createQueuedJob(iot, { namespaceId: NS });
    await iot.send(new CancelJobCommand({ jobId: job.jobId }));
    const reply = await device.request(nsTopic(job.thingName, job.jobId, 'update'), {
      status: 'IN_PROGRESS',
    });
    expect(reply.outcome).toBe('rejected');
    expect(reply.body).toMatchObject({
      code: 'InvalidStateTransition',
      executionState: { status: 'CANCELED' },
    });
  });

  it('answers InvalidRequest naming the field for a missing status or bad statusDetails', async () => {
    const job = await createQueuedJob(iot, { namespaceId: NS });
    const topic = nsTopic(job.thingName, job.jobId, 'update');
    const missing = await device.request(topic, { clientToken: 'm' });
    expect(missing.body).toMatchObject({ code: 'InvalidRequest', clientToken: 'm' });
    expect(missing.body.message).toMatch(/status/);
    const details = await device.request(topic, {
      status: 'IN_PROGRESS',
      statusDetails: { 'bad key!': 'x' },
    });
    expect(details.body).toMatchObject({ code: 'InvalidRequest' });
    expect(details.body.message).toMatch(/statusDetails/);
    // Nothing changed.
    const described = await device.request(nsTopic(job.thingName, job.jobId, 'get'), {});
    expect(described.body.execution).toMatchObject({ status: 'QUEUED', versionNumber: 1 });
  });
});

describe('malformed requests', () => {
  it('answers InvalidJson and InvalidRequest, and keeps serving afterwards', async () => {
    const job = await createQueuedJob(iot, { namespaceId: NS });
    const topic = nsTopic(job.thingName, job.jobId, 'get');
    const notJson = await device.request(topic, '{"clientToken": "x", oops');
    expect(notJson.outcome).toBe('rejected');
    expect(notJson.body.code).toBe('InvalidJson');
    expect(notJson.body).not.toHaveProperty('clientToken');

    const notObject = await device.request(topic, '["clientToken"]');
    expect(notObject.body.code).toBe('InvalidRequest');

    const badField = await device.request(topic, { includeJobDocument: 'no', clientToken: 'bf' });
    expect(badField.body).toMatchObject({ code: 'InvalidRequest', clientToken: 'bf' });
    expect(badField.body.message).toMatch(/includeJobDocument/);

    const ok = await device.request(topic, {});
    expect(ok.outcome).toBe('accepted');
  });

  it('answers InvalidTopic for a Jobs topic that maps to no API', async () => {
    const reply = await device.request(`$aws/things/dev-x/jobs/j1/namespace-${NS}/delete`, {
      clientToken: 'it',
    });
    expect(reply.outcome).toBe('rejected');
    expect(reply.body).toMatchObject({ code: 'InvalidTopic', clientToken: 'it' });
    // A topic that maps to no operation is not counted as a request of any operation.
    for (const op of [
      'DescribeJobExecution',
      'UpdateJobExecution',
      'GetPendingJobExecutions',
      'StartNextPendingJobExecution',
    ]) {
      expect(stack.requestCount(`data:${op}`)).toBe(0);
    }
  });
});

describe('throttling', () => {
  it('answers RequestThrottled while the operation is rate limited, and counts every request', async () => {
    const job = await createQueuedJob(iot, { namespaceId: NS });
    const topic = nsTopic(job.thingName, job.jobId, 'get');
    stack.setRateLimit('data:DescribeJobExecution', { ratePerSecond: 0, burst: 0 });
    const throttled = await device.request(topic, { clientToken: 'th' });
    expect(throttled.outcome).toBe('rejected');
    expect(throttled.body).toMatchObject({ code: 'RequestThrottled', clientToken: 'th' });

    // Other operations are not affected.
    const update = await device.request(nsTopic(job.thingName, job.jobId, 'update'), {
      status: 'IN_PROGRESS',
    });
    expect(update.outcome).toBe('accepted');

    stack.setRateLimit('data:DescribeJobExecution', undefined);
    const ok = await device.request(topic, {});
    expect(ok.outcome).toBe('accepted');
    expect(stack.requestCount('data:DescribeJobExecution')).toBe(2);
    expect(stack.requestCount('data:UpdateJobExecution')).toBe(1);
  });

  it('applies rate limits given at start-up', async () => {
    await stack.close();
    stack = await startLocalStack({
      mqttPort: 0,
      httpPort: 0,
      rateLimits: { 'data:UpdateJobExecution': { ratePerSecond: 0, burst: 1 } },
    });
    iot.destroy();
    iot = iotClient(stack);
    await device.end();
    device = await connectClient(stack);
    const job = await createQueuedJob(iot, { namespaceId: NS });
    const topic = nsTopic(job.thingName, job.jobId, 'update');
    expect((await device.request(topic, { status: 'IN_PROGRESS' })).outcome).toBe('accepted');
    const second = await device.request(topic, { status: 'SUCCEEDED' });
    expect(second.body.code).toBe('RequestThrottled');
  });
});
