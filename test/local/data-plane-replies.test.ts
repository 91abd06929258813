// Where Jobs replies go, as on AWS IoT: `/accepted` and `/rejected` reach the connection that sent
// the request, whether or not it subscribed, and no other client, not even one subscribed to
// `$aws/things/#`. And what statusDetails the stack accepts: what the service accepts (line breaks
// and tabs in handler output, read back unchanged through the control plane), not what it refuses.
import { DescribeJobExecutionCommand, type IoTClient } from '@aws-sdk/client-iot';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../src/local/index.js';
import { connectClient, createQueuedJob, iotClient, type TestClient, waitFor } from './stack-helpers.js';
import { connectMqtts, startTlsStack } from './tls-helpers.js';

const NS = 'replies-ns';

interface Received {
  topic: string;
  body: Record<string, unknown>;
}

/** A client that subscribes to nothing and records everything it receives. */
async function silentClient(url: string): Promise<{ client: MqttClient; received: Received[] }> {
  const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 });
  const received: Received[] = [];
  client.on('message', (topic, payload) =>
    received.push({ topic, body: JSON.parse(payload.toString('utf8')) }),
  );
  return { client, received };
}

let stack: LocalStack;
let control: IoTClient;
const ended: Array<{ endAsync(force?: boolean): Promise<void> } | TestClient> = [];

beforeEach(async () => {
  stack = await startLocalStack({ mqttPort: 0, httpPort: 0 });
  control = iotClient(stack);
});

afterEach(async () => {
  for (const c of ended.splice(0)) await ('end' in c ? c.end() : c.endAsync(true));
  control.destroy();
  await stack.close();
});

describe('Jobs replies', () => {
  it('reach the requester without a subscription, and never a client subscribed to $aws/things/#', async () => {
    const job = await createQueuedJob(control, { namespaceId: NS, document: { op: 'replies' } });
    const other = await createQueuedJob(control, { thingName: job.thingName, document: { op: 'default' } });
    const base = `$aws/things/${job.thingName}/jobs`;

    const watcher = await connectClient(stack);
    ended.push(watcher);
    await watcher.subscribe('$aws/things/#');
    const device = await silentClient(stack.mqttUrl);
    ended.push(device.client);

    const requests: Array<[topic: string, payload: object, outcome: 'accepted' | 'rejected']> = [
      [`${base}/get`, { clientToken: 'r-pending' }, 'accepted'],
      [`${base}/${job.jobId}/namespace-${NS}/get`, { clientToken: 'r-describe' }, 'accepted'],
      [`${base}/$next/namespace-${NS}/get`, { clientToken: 'r-next' }, 'accepted'],
      [`${base}/start-next`, { clientToken: 'r-start-next' }, 'accepted'],
      [
        `${base}/${job.jobId}/namespace-${NS}/update`,
        { status: 'IN_PROGRESS', clientToken: 'r-update' },
        'accepted',
      ],
      [
        `${base}/${job.jobId}/namespace-${NS}/update`,
        { status: 'DONE', clientToken: 'r-bad-update' },
        'rejected',
      ],
      [`${base}/no-such-job/get`, { clientToken: 'r-missing' }, 'rejected'],
    ];
    for (const [topic, payload, outcome] of requests) {
      const token = (payload as { clientToken: string }).clientToken;
      // QoS 0 and 1 requests alike.
      await device.client.publishAsync(topic, JSON.stringify(payload), {
        qos: token.length % 2 === 0 ? 0 : 1,
      });
      const reply = await waitFor(
        () => device.received.find((m) => m.body.clientToken === token),
        `reply ${token}`,
      );
      expect(reply.topic).toBe(`${topic}/${outcome}`);
    }
    const started = device.received.find((m) => m.body.clientToken === 'r-start-next');
    expect(started?.body.execution).toMatchObject({ jobId: other.jobId, status: 'IN_PROGRESS' });
    expect(device.received.find((m) => m.body.clientToken === 'r-bad-update')?.body.code).toBe(
      'InvalidRequest',
    );
    // Exactly one reply per request: nothing twice, nothing extra.
    expect(device.received.map((m) => m.body.clientToken).sort()).toEqual(
      requests.map(([, p]) => (p as { clientToken: string }).clientToken).sort(),
    );

    // The watcher's own request is answered (to it); by then every reply above has long been sent.
    const own = await watcher.request(`${base}/get`, { clientToken: 'watcher' });
    expect(own.outcome).toBe('accepted');
    const replyTopics = watcher.received.filter((m) => /\/(accepted|rejected)$/.test(m.topic));
    expect(replyTopics.map((m) => m.payload.clientToken)).toEqual(['watcher']);
    // It does see the notifications, which the broker publishes to every subscriber.
    expect(watcher.received.some((m) => m.topic.includes('/notify'))).toBe(true);
    expect(device.received.some((m) => m.topic.includes('/notify'))).toBe(false);
  });

  it('go to the requester only over TLS too', async () => {
    const fixture = await startTlsStack('replies-tls-thing');
    const tlsControl = iotClient(fixture.stack);
    try {
      const job = await createQueuedJob(tlsControl, { thingName: fixture.thingName });
      const device = await connectMqtts(fixture, fixture.device);
      const watcher = await connectMqtts(fixture, fixture.device);
      const seen: Received[] = [];
      const seenByWatcher: Received[] = [];
      device.on('message', (topic, p) => seen.push({ topic, body: JSON.parse(p.toString()) }));
      watcher.on('message', (topic, p) => seenByWatcher.push({ topic, body: JSON.parse(p.toString()) }));
      await watcher.subscribeAsync('$aws/things/#', { qos: 1 });
      const topic = `$aws/things/${fixture.thingName}/jobs/${job.jobId}/get`;
      await device.publishAsync(topic, JSON.stringify({ clientToken: 'tls-1' }), { qos: 1 });
      const reply = await waitFor(() => seen.find((m) => m.body.clientToken === 'tls-1'), 'the TLS reply');
      expect(reply.topic).toBe(`${topic}/accepted`);
      await watcher.publishAsync(topic, JSON.stringify({ clientToken: 'tls-2' }), { qos: 1 });
      await waitFor(() => seenByWatcher.find((m) => m.body.clientToken === 'tls-2'), "the watcher's reply");
      expect(
        seenByWatcher.filter((m) => m.topic.endsWith('/accepted')).map((m) => m.body.clientToken),
      ).toEqual(['tls-2']);
      await Promise.all([device.endAsync(true), watcher.endAsync(true)]);
    } finally {
      tlsControl.destroy();
      await fixture.close();
    }
  });
});

describe('statusDetails', () => {
  it('accepts multi-line handler output and returns it unchanged through DescribeJobExecution', async () => {
    const job = await createQueuedJob(control, { namespaceId: NS });
    const device = await connectClient(stack);
    ended.push(device);
    const update = `$aws/things/${job.thingName}/jobs/${job.jobId}/namespace-${NS}/update`;
    const stdout = 'hello from the handler\r\nsecond line\n\tindented third\n';
    const reason = 'Job exited with status: 0';

    expect((await device.request(update, { status: 'IN_PROGRESS' })).outcome).toBe('accepted');
    const done = await device.request(update, {
      status: 'SUCCEEDED',
      statusDetails: { reason, stdout },
      includeJobExecutionState: true,
    });
    expect(done).toMatchObject({
      outcome: 'accepted',
      body: { executionState: { status: 'SUCCEEDED', statusDetails: { reason, stdout } } },
    });
    const described = await control.send(
      new DescribeJobExecutionCommand({ jobId: job.jobId, thingName: job.thingName }),
    );
    expect(described.execution?.status).toBe('SUCCEEDED');
    expect(described.execution?.statusDetails?.detailsMap).toEqual({ reason, stdout });
  });

  it('still refuses what the service refuses, naming the field', async () => {
    const job = await createQueuedJob(control);
    const device = await connectClient(stack);
    ended.push(device);
    const update = `$aws/things/${job.thingName}/jobs/${job.jobId}/update`;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ out: 'bell\u0007' }, /statusDetails\.out .*control characters/],
      [{ out: 'nul\u0000' }, /statusDetails\.out/],
      [{ out: '' }, /statusDetails\.out must be 1-1024/],
      [{ out: 'x'.repeat(1025) }, /statusDetails\.out must be 1-1024/],
      [{ 'bad key': 'v' }, /key 'bad key' must match/],
      [Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])), /at most 10 entries/],
    ];
    for (const [statusDetails, message] of cases) {
      const reply = await device.request(update, { status: 'IN_PROGRESS', statusDetails });
      expect(reply.outcome, JSON.stringify(statusDetails)).toBe('rejected');
      expect(reply.body.code).toBe('InvalidRequest');
      expect(reply.body.message).toMatch(message);
    }
    // None of them changed the execution.
    const described = await control.send(
      new DescribeJobExecutionCommand({ jobId: job.jobId, thingName: job.thingName }),
    );
    expect(described.execution).toMatchObject({ status: 'QUEUED', versionNumber: 1 });
  });
});
