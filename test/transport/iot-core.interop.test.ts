// The iot-core transport (device SDK mqtt5 client, mTLS) against a real MQTT 5 broker that, like AWS
// IoT Core, requires a client certificate: mosquitto with a CA, server and device certificates made by
// openssl for this run. A second, independent client (mqtt.js with its own certificate) plays the cloud.
import { readFileSync, writeFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TransportConnectError, TransportOfflineError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import {
  createIotCoreTransport,
  type IotCoreTransport,
  type IotCoreTransportConfig,
  isRefusal,
  subscribeBatches,
} from '../../src/transport/iot-core.js';
import { createTestPki, issueCertificate, removeTestPki, type TestPki } from '../support/certs.js';
import { type Mosquitto, startMosquitto } from '../support/mosquitto.js';
import { waitFor } from '../support/wait-for.js';

const THING = 'gg-device-1';

describe('isRefusal (which failed attempts mean the identity is refused)', () => {
  it('treats TLS-layer failures and authorization CONNACKs as refusals', () => {
    expect(isRefusal({ errorName: 'AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE' })).toBe(true);
    expect(isRefusal({ errorName: 'AWS_IO_TLS_ERROR_READ_FAILURE' })).toBe(true);
    expect(isRefusal({ errorName: 'AWS_IO_FILE_VALIDATION_FAILURE' })).toBe(true);
    expect(
      isRefusal({ errorName: 'AWS_ERROR_MQTT5_CONNACK_CONNECTION_REFUSED', connackReasonCode: 0x87 }),
    ).toBe(true);
    expect(isRefusal({ connackReasonCode: 0x86 })).toBe(true);
    expect(isRefusal({ connackReasonCode: 0x8a })).toBe(true);
  });

  it('keeps retrying when the endpoint is merely unreachable or busy', () => {
    expect(isRefusal({ errorName: 'AWS_IO_SOCKET_CONNECTION_REFUSED' })).toBe(false);
    expect(isRefusal({ errorName: 'AWS_IO_SOCKET_TIMEOUT' })).toBe(false);
    expect(isRefusal({ errorName: 'AWS_IO_DNS_INVALID_NAME' })).toBe(false);
    expect(isRefusal({ errorName: 'AWS_ERROR_MQTT5_CONNACK_TIMEOUT' })).toBe(false);
    expect(isRefusal({ connackReasonCode: 0x88 })).toBe(false); // server unavailable
    expect(isRefusal({ connackReasonCode: 0x89 })).toBe(false); // server busy
    expect(isRefusal({})).toBe(false);
  });
});

describe('subscribeBatches', () => {
  it('never puts more than 8 filters in one SUBSCRIBE (the AWS IoT Core limit) and keeps them all', () => {
    const filters = Array.from({ length: 19 }, (_, i) => `t/${i}`);
    const batches = subscribeBatches(filters);
    expect(batches.map((b) => b.length)).toEqual([8, 8, 3]);
    expect(batches.flat()).toEqual(filters);
    expect(subscribeBatches([])).toEqual([]);
  });
});

describe('iot-core transport against mosquitto with required client certificates', () => {
  let pki: TestPki;
  let broker: Mosquitto;
  let cloud: MqttClient;
  const transports: IotCoreTransport[] = [];
  const cloudMessages: Array<{ topic: string; payload: string }> = [];

  function transportConfig(overrides: Partial<IotCoreTransportConfig> = {}): IotCoreTransportConfig {
    return {
      kind: 'iot-core',
      endpoint: '127.0.0.1',
      port: broker.port,
      certFile: pki.client.certFile,
      keyFile: pki.client.keyFile,
      caFile: pki.ca.certFile,
      keepaliveSeconds: 30,
      reconnectMinMs: 50,
      reconnectMaxMs: 500,
      ...overrides,
    };
  }

  function newTransport(overrides: Partial<IotCoreTransportConfig> = {}): IotCoreTransport {
    const transport = createIotCoreTransport(transportConfig(overrides), {
      thingName: THING,
      log: silentLogger(),
    });
    transports.push(transport);
    return transport;
  }

  async function connectCloud(): Promise<MqttClient> {
    const cert = issueCertificate(pki.ca, pki.dir, 'cloud', 'client');
    const client = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: 'cloud-side',
      ca: readFileSync(pki.ca.certFile),
      cert: readFileSync(cert.certFile),
      key: readFileSync(cert.keyFile),
      reconnectPeriod: 100,
    });
    client.on('message', (topic, payload) =>
      cloudMessages.push({ topic, payload: payload.toString('utf8') }),
    );
    return client;
  }

  beforeAll(async () => {
    pki = createTestPki(THING);
    broker = await startMosquitto({
      tls: { caFile: pki.ca.certFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile },
    });
    cloud = await connectCloud();
  });

  afterEach(async () => {
    await Promise.all(transports.splice(0).map((t) => t.close()));
    cloudMessages.length = 0;
  });

  afterAll(async () => {
    await cloud?.endAsync(true);
    await broker?.close();
    removeTestPki(pki);
  });

  it('connects with the device certificate, as the thing name, and reports the first connection', async () => {
    const transport = newTransport();
    const events: boolean[] = [];
    transport.on('connected', (e) => events.push(e.reconnect));
    expect(transport.connected).toBe(false);
    await transport.connect();
    expect(transport.connected).toBe(true);
    expect(events).toEqual([false]);
    expect(transport.clientId).toBe(THING);
    await waitFor(() => broker.log().includes(`as ${THING}`), 'the broker to log the client id');
  });

  it('delivers messages published by another client on a subscribed topic, and nothing else', async () => {
    const transport = newTransport();
    await transport.connect();
    const received: Array<{ topic: string; payload: string }> = [];
    const topic = `$aws/things/${THING}/jobs/notify-namespace-ggjobs`;
    await transport.subscribe(topic, (t, p) => received.push({ topic: t, payload: p.toString('utf8') }));
    await cloud.publishAsync(`$aws/things/${THING}/jobs/other`, 'not for us', { qos: 1 });
    await cloud.publishAsync(topic, '{"jobs":{}}', { qos: 1 });
    await waitFor(() => received.length > 0, 'the notification');
    expect(received).toEqual([{ topic, payload: '{"jobs":{}}' }]);
  });

  it('publishes QoS 1 messages that another subscriber receives', async () => {
    const topic = `$aws/things/${THING}/jobs/job-1/namespace-ggjobs/update`;
    await cloud.subscribeAsync(topic, { qos: 1 });
    const transport = newTransport();
    await transport.connect();
    await transport.publish(topic, JSON.stringify({ status: 'IN_PROGRESS' }));
    await transport.publish(topic, new TextEncoder().encode('bytes too'));
    await waitFor(() => cloudMessages.length >= 2, 'both messages');
    expect(cloudMessages).toEqual([
      { topic, payload: '{"status":"IN_PROGRESS"}' },
      { topic, payload: 'bytes too' },
    ]);
  });

  it('rejects a publish with TransportOfflineError while not connected', async () => {
    const transport = newTransport();
    await expect(transport.publish('t/1', 'x')).rejects.toBeInstanceOf(TransportOfflineError);
  });

  it('reconnects after the broker is killed and restarted on the same port, and restores its subscriptions', async () => {
    const transport = newTransport();
    const connected: boolean[] = [];
    let disconnects = 0;
    transport.on('connected', (e) => connected.push(e.reconnect));
    transport.on('disconnected', () => {
      disconnects += 1;
    });
    await transport.connect();
    const topic = `$aws/things/${THING}/jobs/notify-next-namespace-ggjobs`;
    const received: string[] = [];
    await transport.subscribe(topic, (_t, p) => received.push(p.toString('utf8')));

    await broker.stop('SIGKILL');
    await waitFor(() => disconnects === 1, 'the disconnected event');
    expect(transport.connected).toBe(false);
    await expect(transport.publish(topic, 'while offline')).rejects.toBeInstanceOf(TransportOfflineError);

    // The restarted broker has no persistence: the subscription exists again only if the client made it.
    await broker.start();
    await waitFor(() => connected.length === 2, 'the reconnected event');
    expect(connected).toEqual([false, true]);
    expect(transport.connected).toBe(true);
    await waitFor(() => cloud.connected, 'the cloud client to reconnect');
    await cloud.publishAsync(topic, 'after restart', { qos: 1 });
    await waitFor(() => received.length > 0, 'the message after the restart');
    expect(received).toEqual(['after restart']);
  });

  it('refuses a device certificate from another CA with TransportConnectError, and stops trying', async () => {
    const transport = newTransport({
      certFile: pki.foreignClient.certFile,
      keyFile: pki.foreignClient.keyFile,
    });
    const error = await transport.connect().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(TransportConnectError);
    expect((error as TransportConnectError).code).toBe('GGJOBS_ERR_TRANSPORT_CONNECT');
    expect((error as Error).message).toMatch(/refused the connection/);
    expect((error as Error).message).toContain(`127.0.0.1:${broker.port}`);
    expect(transport.connected).toBe(false);
  });

  it('names the config field when a certificate file cannot be read', async () => {
    const transport = newTransport({ certFile: `${pki.dir}/missing.crt` });
    await expect(transport.connect()).rejects.toThrow(/transport\.certFile: cannot read .*missing\.crt/);
  });

  it('says which files it could not use when the certificate is not PEM', async () => {
    const notPem = `${pki.dir}/not-a-certificate.txt`;
    writeFileSync(notPem, 'hello');
    const transport = newTransport({ certFile: notPem });
    const error = await transport.connect().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(TransportConnectError);
    expect((error as Error).message).toContain(`certFile ${notPem}`);
    expect((error as Error).message).toContain(`keyFile ${pki.client.keyFile}`);
  });

  it('closes idempotently; connect() after close() rejects', async () => {
    const transport = newTransport();
    await transport.connect();
    let disconnects = 0;
    transport.on('disconnected', () => {
      disconnects += 1;
    });
    await transport.close();
    await transport.close();
    expect(transport.connected).toBe(false);
    expect(disconnects).toBe(1);
    await expect(transport.connect()).rejects.toBeInstanceOf(TransportConnectError);
  });
});
