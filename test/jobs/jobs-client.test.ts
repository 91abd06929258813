import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { mqttTransportSchema } from '../../src/config/schema.js';
import {
  JobsRequestRejectedError,
  JobsRequestTimeoutError,
  TransportOfflineError,
} from '../../src/errors.js';
import { JobsClient } from '../../src/jobs/jobs-client.js';
import { jobsTopics } from '../../src/jobs/topics.js';
import { silentLogger } from '../../src/log.js';
import { MqttTransport } from '../../src/transport/mqtt.js';
import { startTestBroker, type TestBroker, waitFor } from '../transport/aedes-broker.js';

const ids = { thingName: 'core-1', jobId: 'fleet-job', namespaceId: 'ggjobs' };
const topics = jobsTopics(ids);
const log = silentLogger();
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Reply = [topic: string, payload: string | Record<string, unknown>];
type Script = (topic: string, body: Record<string, unknown>, n: number) => Reply[];

/** A stand-in for the Jobs service: answers each request with the replies `script` returns. */
async function responder(
  broker: TestBroker,
  script: Script,
): Promise<{ requests: Array<Record<string, unknown>> }> {
  const client: MqttClient = await connectAsync(broker.url, {
    clientId: 'fake-jobs-service',
    reconnectPeriod: 0,
  });
  cleanups.push(() => client.endAsync(true));
  const requests: Array<Record<string, unknown>> = [];
  client.on('message', (topic, payload) => {
    const body = JSON.parse(payload.toString()) as Record<string, unknown>;
    requests.push({ topic, ...body });
    for (const [replyTopic, reply] of script(topic, body, requests.length)) {
      client.publish(replyTopic, typeof reply === 'string' ? reply : JSON.stringify(reply), { qos: 1 });
    }
  });
  await client.subscribeAsync([topics.get, topics.update], { qos: 1 });
  return { requests };
}

async function setup(script: Script, options: { timeoutMs?: number; retries?: number } = {}) {
  const broker = await startTestBroker();
  cleanups.push(() => broker.close());
  const service = await responder(broker, script);
  const transport = new MqttTransport(mqttTransportSchema.parse({ kind: 'mqtt', url: broker.url }), {
    thingName: ids.thingName,
    log,
  });
  cleanups.push(() => transport.close());
  const client = new JobsClient({
    transport,
    ids,
    log,
    requestTimeoutMs: options.timeoutMs ?? 2_000,
    requestRetries: options.retries ?? 2,
    retryMinMs: 10,
  });
  cleanups.push(() => client.close());
  await client.start();
  await transport.connect();
  return { client, service, broker, transport };
}

const execution = { jobId: 'fleet-job', status: 'QUEUED', versionNumber: 1, executionNumber: 4, queuedAt: 1 };

describe('jobs client', () => {
  it('describes on the namespaced get topic and returns the checked execution', async () => {
    const { client, service } = await setup((_, body) => [
      [
        topics.getAccepted,
        { execution: { ...execution, jobDocument: { a: 1 } }, timestamp: 1, clientToken: body.clientToken },
      ],
    ]);
    const res = await client.describe({ executionNumber: 4 });
    expect(res.execution).toEqual({ ...execution, jobDocument: { a: 1 } });
    expect(service.requests).toEqual([
      { topic: topics.get, executionNumber: 4, clientToken: expect.any(String) },
    ]);
  });

  it('sends a new clientToken with every request', async () => {
    const { client, service } = await setup((_, body) => [
      [topics.getAccepted, { execution, clientToken: body.clientToken }],
    ]);
    await Promise.all([client.describe(), client.describe(), client.describe()]);
    const tokens = service.requests.map((r) => r.clientToken as string);
    expect(new Set(tokens).size).toBe(3);
    for (const t of tokens) expect(t.length).toBeLessThanOrEqual(64);
  });

  it('fails a final rejection at once with the service code and payload', async () => {
    const { client, service } = await setup((_, body) => [
      [
        topics.updateRejected,
        {
          code: 'VersionMismatch',
          message: 'stale',
          clientToken: body.clientToken,
          executionState: { status: 'IN_PROGRESS', versionNumber: 3 },
        },
      ],
    ]);
    const err = await client.update({ status: 'SUCCEEDED', expectedVersion: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobsRequestRejectedError);
    expect((err as JobsRequestRejectedError).rejectedCode).toBe('VersionMismatch');
    expect((err as JobsRequestRejectedError).payload).toMatchObject({ executionState: { versionNumber: 3 } });
    expect(service.requests).toHaveLength(1);
  });

  it.each(['RequestThrottled', 'InternalError'])('retries %s and returns the later success', async (code) => {
    const { client, service } = await setup((_, body, n) =>
      n < 3
        ? [[topics.updateRejected, { code, message: 'try later', clientToken: body.clientToken }]]
        : [
            [
              topics.updateAccepted,
              { executionState: { status: 'IN_PROGRESS', versionNumber: 2 }, clientToken: body.clientToken },
            ],
          ],
    );
    const res = await client.update({ status: 'IN_PROGRESS', includeJobExecutionState: true });
    expect(res.executionState?.versionNumber).toBe(2);
    expect(service.requests).toHaveLength(3);
  });

  it('gives up after the configured retries', async () => {
    const { client, service } = await setup(
      (_, body) => [
        [
          topics.updateRejected,
          { code: 'RequestThrottled', message: 'slow down', clientToken: body.clientToken },
        ],
      ],
      { retries: 2 },
    );
    const err = await client.update({ status: 'SUCCEEDED' }).catch((e: unknown) => e);
    expect((err as JobsRequestRejectedError).rejectedCode).toBe('RequestThrottled');
    expect(service.requests).toHaveLength(3);
  });

  it('times out unanswered requests, retrying them first', async () => {
    const { client, service } = await setup(() => [], { timeoutMs: 150, retries: 1 });
    await expect(client.describe()).rejects.toBeInstanceOf(JobsRequestTimeoutError);
    expect(service.requests).toHaveLength(2);
  });

  it('ignores garbage, malformed and foreign replies and still takes the real one', async () => {
    const { client } = await setup((_, body) => [
      [topics.getAccepted, 'not json {'],
      [
        topics.getAccepted,
        { execution: { jobId: 'fleet-job', status: 'QUEUED' }, clientToken: body.clientToken },
      ],
      [topics.getAccepted, { execution, clientToken: 'someone-else' }],
      [topics.getRejected, { message: 'no code', clientToken: body.clientToken }],
      [topics.getAccepted, 'x'.repeat(140_000)],
      [topics.getAccepted, { execution, clientToken: body.clientToken }],
    ]);
    const res = await client.describe();
    expect(res.execution?.executionNumber).toBe(4);
  });

  it('fails at once with TransportOfflineError when offline', async () => {
    const { client, broker, transport } = await setup(() => []);
    await broker.stop();
    await new Promise<void>((resolve) => transport.on('disconnected', () => resolve()));
    await expect(client.describe()).rejects.toBeInstanceOf(TransportOfflineError);
  });

  it('fails requests still waiting when the connection drops', async () => {
    const { client, broker, service } = await setup(() => [], { timeoutMs: 30_000 });
    const pending = client.describe();
    await waitFor(() => service.requests.length === 1, 'the request at the service');
    await broker.stop();
    await expect(pending).rejects.toBeInstanceOf(TransportOfflineError);
  });
});
