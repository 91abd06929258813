// Shared helpers of the local stack tests: a real AWS SDK client on the stack's control plane, a real
// mqtt.js client on its broker, a bounded poll, and request/reply over the Jobs topics.
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { connectAsync, type IClientPublishOptions, type MqttClient } from 'mqtt';
import type { LocalStack } from '../../src/local/index.js';

export function iotClient(stack: LocalStack): IoTClient {
  return new IoTClient({
    endpoint: stack.controlPlaneEndpoint,
    region: stack.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

import { waitFor } from '../support/wait-for.js';

export { waitFor };

export interface ReceivedMessage {
  topic: string;
  payload: Record<string, unknown>;
}

/** An mqtt.js client that records every message it receives. */
export interface TestClient {
  client: MqttClient;
  received: ReceivedMessage[];
  subscribe(...topics: string[]): Promise<void>;
  /** Messages received so far on `topic`. */
  on(topic: string): Record<string, unknown>[];
  /** Publishes `payload` (an object is sent as JSON) and returns the reply on `/accepted` or `/rejected`. */
  request(
    topic: string,
    payload: unknown,
  ): Promise<{ outcome: 'accepted' | 'rejected'; body: Record<string, unknown> }>;
  publish(topic: string, payload: string | Buffer, options?: IClientPublishOptions): Promise<void>;
  end(): Promise<void>;
}

let clientCounter = 0;

export async function connectClient(stack: LocalStack): Promise<TestClient> {
  clientCounter += 1;
  const client = await connectAsync(stack.mqttUrl, {
    clientId: `test-${process.pid}-${clientCounter}`,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });
  const received: ReceivedMessage[] = [];
  client.on('message', (topic, payload) => {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      parsed = { unparsable: payload.toString('utf8') };
    }
    received.push({ topic, payload: parsed });
  });
  const testClient: TestClient = {
    client,
    received,
    async subscribe(...topics) {
      await client.subscribeAsync(topics, { qos: 1 });
    },
    on: (topic) => received.filter((m) => m.topic === topic).map((m) => m.payload),
    async request(topic, payload) {
      await client.subscribeAsync([`${topic}/accepted`, `${topic}/rejected`], { qos: 1 });
      const before = received.length;
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      await client.publishAsync(topic, text, { qos: 1 });
      const reply = await waitFor(
        () =>
          received
            .slice(before)
            .find((m) => m.topic === `${topic}/accepted` || m.topic === `${topic}/rejected`),
        `a reply to ${topic}`,
      );
      return {
        outcome: reply.topic.endsWith('/accepted') ? 'accepted' : 'rejected',
        body: reply.payload,
      };
    },
    async publish(topic, payload, options = { qos: 1 }) {
      await client.publishAsync(topic, payload, options);
    },
    async end() {
      await client.endAsync(true);
    },
  };
  return testClient;
}

export interface JobFixture {
  thingName: string;
  groupName: string;
  groupArn: string;
  jobId: string;
}

let fixtureCounter = 0;

/**
 * Creates a thing in a new thing group and a CONTINUOUS job targeting the group (in `namespaceId`
 * when given), through the real SDK: the thing gets one QUEUED execution.
 */
export async function createQueuedJob(
  iot: IoTClient,
  options: { namespaceId?: string; document?: unknown; thingName?: string; jobId?: string } = {},
): Promise<JobFixture> {
  fixtureCounter += 1;
  const thingName = options.thingName ?? `thing-${fixtureCounter}`;
  const groupName = `group-${fixtureCounter}`;
  const jobId = options.jobId ?? `job-${fixtureCounter}`;
  await iot.send(new CreateThingCommand({ thingName })).catch((err: { name?: string }) => {
    if (err.name !== 'ResourceAlreadyExistsException') throw err;
  });
  const group = await iot.send(new CreateThingGroupCommand({ thingGroupName: groupName }));
  await iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName: groupName }));
  await iot.send(
    new CreateJobCommand({
      jobId,
      targets: [group.thingGroupArn!],
      targetSelection: 'CONTINUOUS',
      document: JSON.stringify(options.document ?? { operation: 'test', step: fixtureCounter }),
      ...(options.namespaceId === undefined ? {} : { namespaceId: options.namespaceId }),
    }),
  );
  return { thingName, groupName, groupArn: group.thingGroupArn!, jobId };
}
