import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { mqttTransportSchema } from '../../src/config/schema.js';
import { TransportConnectError, TransportOfflineError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { createTransport } from '../../src/transport/index.js';
import { MqttTransport, reconnectDelay, topicMatches } from '../../src/transport/mqtt.js';
import type { ConnectedEvent } from '../../src/transport/types.js';
import { createTestPki, removeTestPki, type TestPki } from '../support/certs.js';
import { startTestBroker, type TestBroker, waitFor } from './aedes-broker.js';

const log = silentLogger();
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function transportFor(url: string, extra: Record<string, unknown> = {}): MqttTransport {
  const config = mqttTransportSchema.parse({
    kind: 'mqtt',
    url,
    reconnectMinMs: 20,
    reconnectMaxMs: 100,
    ...extra,
  });
  const t = new MqttTransport(config, { thingName: 'dev-1', log });
  cleanups.push(() => t.close());
  return t;
}

async function broker(options?: Parameters<typeof startTestBroker>[0]): Promise<TestBroker> {
  const b = await startTestBroker(options);
  cleanups.push(() => b.close());
  return b;
}

describe('mqtt transport', () => {
  it('connects with the default client id, routes messages to handlers and publishes QoS 1', async () => {
    const b = await broker();
    const t = transportFor(b.url);
    const connected: ConnectedEvent[] = [];
    t.on('connected', (e) => connected.push(e));
    const got: string[] = [];
    await t.subscribe('$aws/things/dev-1/jobs/notify-namespace-ns', (topic, payload) =>
      got.push(`${topic} ${payload.toString()}`),
    );
    await t.connect();
    expect(t.connected).toBe(true);
    expect(connected).toEqual([{ reconnect: false }]);
    expect(b.aedes.connectedClients).toBe(1);
    expect(Object.keys((b.aedes as unknown as { clients: Record<string, unknown> }).clients)).toEqual([
      'ggjobs-dev-1',
    ]);
    await b.publish('$aws/things/dev-1/jobs/notify-namespace-ns', '{"jobs":{}}');
    await b.publish('$aws/things/dev-1/jobs/other', '{}');
    await waitFor(() => got.length === 1, 'message');
    expect(got).toEqual(['$aws/things/dev-1/jobs/notify-namespace-ns {"jobs":{}}']);

    await t.publish('$aws/things/dev-1/jobs/j/namespace-ns/get', '{"clientToken":"x"}');
    expect(b.published.map((p) => [p.topic, p.payload.toString(), p.clientId])).toEqual([
      ['$aws/things/dev-1/jobs/j/namespace-ns/get', '{"clientToken":"x"}', 'ggjobs-dev-1'],
    ]);
  });

  it('uses transport.clientId, username and password when given', async () => {
    const b = await broker({ credentials: { username: 'u', password: 'p' } });
    const t = transportFor(b.url, { clientId: 'custom-id', username: 'u', password: 'p' });
    await t.connect();
    expect(Object.keys((b.aedes as unknown as { clients: Record<string, unknown> }).clients)).toEqual([
      'custom-id',
    ]);
  });

  it('fails connect() with TransportConnectError when the broker refuses the credentials', async () => {
    const b = await broker({ credentials: { username: 'u', password: 'p' } });
    const t = transportFor(b.url, { username: 'u', password: 'wrong' });
    const err = await t.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportConnectError);
    expect((err as Error).message).toContain(b.url);
    expect(t.connected).toBe(false);
  });

  it('rejects publish with TransportOfflineError before connecting and after close', async () => {
    const b = await broker();
    const t = transportFor(b.url);
    await expect(t.publish('a/b', 'x')).rejects.toBeInstanceOf(TransportOfflineError);
    await t.connect();
    await t.close();
    await t.close(); // idempotent
    await expect(t.publish('a/b', 'x')).rejects.toBeInstanceOf(TransportOfflineError);
    expect(t.connected).toBe(false);
  });

  it('rejects a pending connect() when closed before the broker answered', async () => {
    const b = await broker();
    await b.stop(); // nothing listens: connect keeps retrying
    const t = transportFor(b.url);
    const pending = t.connect();
    await t.close();
    await expect(pending).rejects.toBeInstanceOf(TransportConnectError);
  });

  it('subscribes at QoS 0 on its clean session (no PUBACK per message) and publishes at QoS 1', async () => {
    const b = await broker();
    const requested: Array<{ topic: string; qos: number }> = [];
    b.aedes.on('subscribe', (subs) => requested.push(...subs.map(({ topic, qos }) => ({ topic, qos }))));
    const qosPublished: number[] = [];
    b.aedes.on('publish', (packet, client) => {
      if (client) qosPublished.push(packet.qos);
    });
    const t = transportFor(b.url);
    await t.subscribe('$aws/things/dev-1/jobs/notify-next-namespace-ns', () => undefined);
    await t.connect();
    await t.subscribe('$aws/things/dev-1/jobs/j/namespace-ns/get/accepted', () => undefined);
    await t.publish('$aws/things/dev-1/jobs/j/namespace-ns/get', '{}');
    expect(requested).toEqual([
      { topic: '$aws/things/dev-1/jobs/notify-next-namespace-ns', qos: 0 },
      { topic: '$aws/things/dev-1/jobs/j/namespace-ns/get/accepted', qos: 0 },
    ]);
    expect(qosPublished).toEqual([1]);
  });

  it('reports the outage, rejects publishes while offline, reconnects and restores subscriptions', async () => {
    const b = await broker();
    const t = transportFor(b.url);
    const events: string[] = [];
    t.on('connected', (e) => events.push(e.reconnect ? 'reconnected' : 'connected'));
    t.on('disconnected', () => events.push('disconnected'));
    const got: string[] = [];
    await t.subscribe('t/1', (_, p) => got.push(p.toString()));
    await t.connect();
    const subscribesBefore = b.subscribed.filter((s) => s === 't/1').length;

    await b.stop();
    await waitFor(() => !t.connected, 'disconnect');
    await expect(t.publish('t/1', 'lost')).rejects.toBeInstanceOf(TransportOfflineError);
    await b.start();
    await waitFor(() => events.includes('reconnected'), 'reconnect');
    expect(events).toEqual(['connected', 'disconnected', 'reconnected']);
    expect(b.subscribed.filter((s) => s === 't/1').length).toBe(subscribesBefore + 1);

    await b.publish('t/1', 'after');
    await waitFor(() => got.includes('after'), 'message after reconnect');
  });

  it('subscribes while offline and is subscribed once connected', async () => {
    const b = await broker();
    const t = transportFor(b.url);
    const got: string[] = [];
    await t.subscribe('late/+', (topic) => got.push(topic));
    await t.connect();
    await t.subscribe('later/#', (topic) => got.push(topic));
    await b.publish('late/x', '1');
    await b.publish('later/a/b', '2');
    await waitFor(() => got.length === 2, 'both messages');
    expect(got.sort()).toEqual(['late/x', 'later/a/b']);
  });

  it('keeps delivering to other handlers when one throws', async () => {
    const b = await broker();
    const t = transportFor(b.url);
    const got: string[] = [];
    await t.subscribe('x', () => {
      throw new Error('boom');
    });
    await t.subscribe('x', (_, p) => got.push(p.toString()));
    await t.connect();
    await b.publish('x', 'still');
    await waitFor(() => got.length === 1, 'second handler');
  });

  it('names an unreadable TLS file in the connect error', async () => {
    const t = transportFor('mqtts://127.0.0.1:1', { caFile: '/nonexistent/ca.pem' });
    await expect(t.connect()).rejects.toThrow(/transport\.caFile: cannot read \/nonexistent\/ca\.pem/);
  });

  describe('over TLS', () => {
    let pki: TestPki | undefined;
    afterEach(() => {
      removeTestPki(pki);
      pki = undefined;
    });

    it('connects to an mqtts broker with caFile and refuses an unknown server certificate', async () => {
      pki = createTestPki();
      const b = await broker({
        tls: { cert: readFileSync(pki.server.certFile), key: readFileSync(pki.server.keyFile) },
      });
      const good = transportFor(b.url, { caFile: pki.ca.certFile });
      await good.connect();
      expect(good.connected).toBe(true);

      const untrusted = transportFor(b.url, { caFile: pki.foreignCa.certFile });
      await expect(untrusted.connect()).rejects.toBeInstanceOf(TransportConnectError);
    });
  });
});

describe('createTransport', () => {
  it('builds the mqtt.js backend for kind mqtt', () => {
    const config = mqttTransportSchema.parse({ kind: 'mqtt', url: 'mqtt://127.0.0.1:1883' });
    const t = createTransport(config, { thingName: 'dev-9', log });
    expect(t.kind).toBe('mqtt');
    expect((t as MqttTransport).clientId).toBe('ggjobs-dev-9');
    expect(t.connected).toBe(false);
  });
});

describe('reconnectDelay', () => {
  it('doubles from the minimum and stays at the maximum', () => {
    const delays = [1, 2, 3, 4, 5, 6, 50].map((n) => reconnectDelay(n, 1_000, 30_000));
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  it('never goes below the minimum, even when the maximum is smaller', () => {
    expect(reconnectDelay(3, 500, 100)).toBe(500);
  });
});

describe('topicMatches', () => {
  it('matches MQTT filters', () => {
    expect(
      topicMatches('$aws/things/t/jobs/j/notify-namespace-n/', '$aws/things/t/jobs/j/notify-namespace-n/'),
    ).toBe(true);
    expect(
      topicMatches('$aws/things/t/jobs/j/notify-namespace-n/', '$aws/things/t/jobs/j/notify-namespace-n'),
    ).toBe(false);
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+/c', 'a/b/d')).toBe(false);
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
  });
});
