// MQTT 5 clients on the local broker (aedes speaks 3.1.1; the stack translates): mqtt.js with
// protocolVersion 5 connects, learns the AWS IoT Core limits from the CONNACK, subscribes,
// unsubscribes, exchanges messages with an MQTT 3.1.1 client, gets its Jobs replies without
// subscribing, and keeps its session across a reconnect when it asked for a session expiry.
import net from 'node:net';
import { connectAsync, type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../src/local/index.js';
import { waitFor } from './stack-helpers.js';

let stack: LocalStack;
const clients: MqttClient[] = [];
let counter = 0;

beforeEach(async () => {
  stack = await startLocalStack({ mqttPort: 0, httpPort: 0 });
});

afterEach(async () => {
  for (const client of clients.splice(0)) await client.endAsync(true);
  await stack.close();
});

interface Connected {
  client: MqttClient;
  connack: IConnackPacket;
  messages: Array<{ topic: string; payload: string }>;
}

async function connect(options: IClientOptions = {}): Promise<Connected> {
  counter += 1;
  const client = await connectAsync(
    stack.mqttUrl,
    { clientId: `v5-${process.pid}-${counter}`, reconnectPeriod: 0, connectTimeout: 5_000, ...options },
    false,
  );
  clients.push(client);
  const messages: Connected['messages'] = [];
  client.on('message', (topic, payload) => messages.push({ topic, payload: payload.toString('utf8') }));
  const connack = (client as unknown as { connackPacket: IConnackPacket }).connackPacket;
  return { client, connack, messages };
}

describe('MQTT 5 clients', () => {
  it('connect with the AWS IoT Core limits and exchange messages with MQTT 3.1.1 clients', async () => {
    const v5 = await connect({ protocolVersion: 5 });
    const v4 = await connect({ protocolVersion: 4 });
    expect(v5.connack).toMatchObject({
      reasonCode: 0,
      sessionPresent: false,
      properties: { maximumQoS: 1, topicAliasMaximum: 0, sharedSubscriptionAvailable: false },
    });

    const granted = await v5.client.subscribeAsync({ 'a/v5': { qos: 1 }, 'b/v5': { qos: 0 } });
    expect(granted.map((g) => [g.topic, g.qos])).toEqual([
      ['a/v5', 1],
      ['b/v5', 0],
    ]);
    await v4.client.subscribeAsync('a/v4', { qos: 1 });

    await v4.client.publishAsync('a/v5', 'from 3.1.1', { qos: 1 });
    await v5.client.publishAsync('a/v4', 'from 5', { qos: 1, properties: { contentType: 'text/plain' } });
    await waitFor(() => v5.messages.find((m) => m.topic === 'a/v5'), 'the 3.1.1 message at the v5 client');
    await waitFor(() => v4.messages.find((m) => m.topic === 'a/v4'), 'the v5 message at the 3.1.1 client');
    expect(v5.messages).toEqual([{ topic: 'a/v5', payload: 'from 3.1.1' }]);
    expect(v4.messages).toEqual([{ topic: 'a/v4', payload: 'from 5' }]);

    const unsuback = await v5.client.unsubscribeAsync(['a/v5', 'b/v5']);
    expect(unsuback).toMatchObject({ cmd: 'unsuback', granted: [0, 0] });
    await v4.client.publishAsync('a/v5', 'after unsubscribe', { qos: 1 });
    // A round trip through the broker after that publish: had it been delivered, it would be here.
    await v5.client.subscribeAsync('c/v5', { qos: 1 });
    await v4.client.publishAsync('c/v5', 'marker', { qos: 1 });
    await waitFor(() => v5.messages.find((m) => m.topic === 'c/v5'), 'the marker');
    expect(v5.messages.map((m) => m.payload)).toEqual(['from 3.1.1', 'marker']);
  });

  it('get Jobs replies without subscribing', async () => {
    const v5 = await connect({ protocolVersion: 5 });
    await v5.client.publishAsync('$aws/things/v5-thing/jobs/get', '{"clientToken":"v5"}', { qos: 1 });
    const reply = await waitFor(() => v5.messages[0], 'the reply');
    expect(reply.topic).toBe('$aws/things/v5-thing/jobs/get/accepted');
    expect(JSON.parse(reply.payload)).toMatchObject({
      inProgressJobs: [],
      queuedJobs: [],
      clientToken: 'v5',
    });
  });

  it('keep their session when they asked for a session expiry; a Clean Start has none present', async () => {
    const clientId = `v5-session-${process.pid}`;
    const session = { protocolVersion: 5 as const, clientId, properties: { sessionExpiryInterval: 300 } };
    const first = await connect({ ...session, clean: true });
    expect(first.connack.sessionPresent).toBe(false);
    await first.client.subscribeAsync('kept/topic', { qos: 1 });
    await first.client.endAsync();

    const publisher = await connect({ protocolVersion: 4 });
    await publisher.client.publishAsync('kept/topic', 'while away', { qos: 1 });

    const resumed = await connect({ ...session, clean: false });
    expect(resumed.connack.sessionPresent).toBe(true);
    await waitFor(() => resumed.messages.find((m) => m.payload === 'while away'), 'the queued message');
    await resumed.client.endAsync();

    const fresh = await connect({ ...session, clean: true });
    expect(fresh.connack.sessionPresent).toBe(false);
  });

  it('drop a connection that sends garbage, or a malformed MQTT 5 packet, and keep serving', async () => {
    const { hostname, port } = new URL(stack.mqttUrl);
    const send = (bytes: Buffer) =>
      new Promise<void>((resolve) => {
        const socket = net.connect(Number(port), hostname, () => socket.write(bytes));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve());
      });
    await send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    // A valid MQTT 5 CONNECT, then a PUBLISH with both QoS bits set (malformed): the broker hangs up.
    const v5 = await connect({ protocolVersion: 5 });
    const connectPacket = Buffer.from('101000044d5154540502003c00000003616263', 'hex');
    await send(Buffer.concat([connectPacket, Buffer.from([0x36, 0x03, 0x00, 0x01, 0x61])]));
    await v5.client.publishAsync('$aws/things/t/jobs/get', '{}', { qos: 1 });
    await waitFor(() => v5.messages[0], 'a reply after the bad connections');
  });
});
