// The greengrass-ipc transport driven through the REAL device SDK IPC client against the local IPC
// test server, which bridges IoT Core operations to an aedes broker.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GreengrassIpcError, TransportConnectError, TransportOfflineError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import {
  createGreengrassIpcTransport,
  type GreengrassIpcTransport,
  reportComponentState,
} from '../../src/transport/greengrass-ipc.js';
import { createTransport } from '../../src/transport/index.js';
import { type IpcFixture, startIpcFixture, waitFor } from '../greengrass/helpers.js';

const log = silentLogger();

describe('greengrass-ipc transport', () => {
  let fixture: IpcFixture;
  const transports: GreengrassIpcTransport[] = [];

  function transport(options: { svcuid?: string; socketPath?: string } = {}): GreengrassIpcTransport {
    const t = createGreengrassIpcTransport({
      log,
      socketPath: options.socketPath ?? fixture.socketPath,
      svcuid: options.svcuid ?? fixture.svcuid,
      reconnectMinMs: 20,
      reconnectMaxMs: 200,
    });
    transports.push(t);
    return t;
  }

  beforeEach(async () => {
    fixture = await startIpcFixture({
      accessControl: { subscribe: ['devices/#', 'jobs/+/notify'], publish: ['devices/#', 'out/+'] },
    });
  });

  afterEach(async () => {
    await Promise.all(transports.splice(0).map((t) => t.close()));
    await fixture.close();
  });

  it('connects with the SVCUID and reports connected (reconnect false)', async () => {
    const t = transport();
    const events: boolean[] = [];
    t.on('connected', (e) => events.push(e.reconnect));
    await t.connect();
    expect(t.kind).toBe('greengrass-ipc');
    expect(t.connected).toBe(true);
    expect(events).toEqual([false]);
    expect(fixture.server.connections().map((c) => c.accepted)).toEqual([true]);
  });

  it('is refused with a wrong SVCUID: TransportConnectError naming the SVCUID', async () => {
    const t = transport({ svcuid: 'not-the-token' });
    const err = await t.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportConnectError);
    expect((err as TransportConnectError).code).toBe('GGJOBS_ERR_TRANSPORT_CONNECT');
    expect((err as Error).message).toMatch(/refused the IPC connection \(SVCUID not accepted\)/);
    expect(t.connected).toBe(false);
  });

  it('fails clearly when the nucleus socket does not exist', async () => {
    const t = transport({ socketPath: `${fixture.socketPath}.missing` });
    const err = await t.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportConnectError);
    expect((err as Error).message).toContain(`${fixture.socketPath}.missing`);
  });

  it('names the missing environment variables when not run as a component', () => {
    const saved = {
      path: process.env.AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT,
      svcuid: process.env.SVCUID,
    };
    delete process.env.AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT;
    delete process.env.SVCUID;
    try {
      const create = () => createTransport({ kind: 'greengrass-ipc' }, { thingName: 'T', log });
      expect(create).toThrow(TransportConnectError);
      expect(create).toThrow(/AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT and SVCUID not set/);
    } finally {
      if (saved.path !== undefined)
        process.env.AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT = saved.path;
      if (saved.svcuid !== undefined) process.env.SVCUID = saved.svcuid;
    }
  });

  it('createTransport builds it from the environment the nucleus sets', async () => {
    const saved = {
      path: process.env.AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT,
      svcuid: process.env.SVCUID,
    };
    process.env.AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT = fixture.socketPath;
    process.env.SVCUID = fixture.svcuid;
    try {
      const t = createTransport(
        { kind: 'greengrass-ipc' },
        { thingName: 'T', log },
      ) as GreengrassIpcTransport;
      transports.push(t);
      await t.connect();
      expect(t.kind).toBe('greengrass-ipc');
      expect(t.connected).toBe(true);
    } finally {
      if (saved.path === undefined) delete process.env.AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT;
      else process.env.AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT = saved.path;
      if (saved.svcuid === undefined) delete process.env.SVCUID;
      else process.env.SVCUID = saved.svcuid;
    }
  });

  it('receives, through SubscribeToIoTCore (QoS 1), a message published by a plain MQTT client', async () => {
    const t = transport();
    await t.connect();
    const received: Array<{ topic: string; payload: string }> = [];
    await t.subscribe('devices/+/cmd', (topic, payload) =>
      received.push({ topic, payload: payload.toString() }),
    );
    expect(fixture.server.requests('SubscribeToIoTCore')).toEqual([{ topicName: 'devices/+/cmd', qos: '1' }]);

    const mqtt = await fixture.mqttClient();
    await mqtt.publishAsync('devices/d1/cmd', '{"hello":1}', { qos: 1 });
    await mqtt.publishAsync('devices/d1/other', 'not for us', { qos: 1 });
    await mqtt.publishAsync('devices/d2/cmd', Buffer.from([0, 255, 1]), { qos: 1 });
    await waitFor(() => received.length >= 2, 'two messages');
    expect(received[0]).toEqual({ topic: 'devices/d1/cmd', payload: '{"hello":1}' });
    expect(received[1]?.topic).toBe('devices/d2/cmd');
    expect(received).toHaveLength(2);
  });

  it('delivers binary payloads byte for byte', async () => {
    const t = transport();
    await t.connect();
    const payloads: Buffer[] = [];
    await t.subscribe('devices/bin', (_topic, payload) => payloads.push(payload));
    const mqtt = await fixture.mqttClient();
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255, 10, 13]);
    await mqtt.publishAsync('devices/bin', bytes, { qos: 1 });
    const [got] = await waitFor(() => (payloads.length > 0 ? payloads : undefined), 'the binary message');
    expect(got?.equals(bytes)).toBe(true);
  });

  it('publishes through PublishToIoTCore to a plain MQTT subscriber (QoS 1 and 0)', async () => {
    const t = transport();
    await t.connect();
    const mqtt = await fixture.mqttClient();
    const seen: Array<{ topic: string; payload: string; qos: number }> = [];
    mqtt.on('message', (topic, payload, packet) =>
      seen.push({ topic, payload: payload.toString(), qos: packet.qos }),
    );
    await mqtt.subscribeAsync('out/#', { qos: 1 });

    await t.publish('out/a', '{"status":"IN_PROGRESS"}');
    await t.publish('out/b', new TextEncoder().encode('bytes'), 0);
    await waitFor(() => seen.length >= 2, 'both publishes');
    expect(seen).toContainEqual({ topic: 'out/a', payload: '{"status":"IN_PROGRESS"}', qos: 1 });
    expect(seen).toContainEqual({ topic: 'out/b', payload: 'bytes', qos: 0 });
    expect(fixture.server.requests('PublishToIoTCore')).toContainEqual({
      topicName: 'out/a',
      qos: '1',
      payload: Buffer.from('{"status":"IN_PROGRESS"}').toString('base64'),
    });
  });

  it('turns an UnauthorizedError (topic outside accessControl) into GreengrassIpcError', async () => {
    const t = transport();
    await t.connect();
    const subErr = await t.subscribe('secret/#', () => {}).catch((e: unknown) => e);
    expect(subErr).toBeInstanceOf(GreengrassIpcError);
    expect((subErr as Error).message).toMatch(
      /SubscribeToIoTCore on secret\/# refused by the nucleus: UnauthorizedError/,
    );
    const pubErr = await t.publish('secret/x', 'x').catch((e: unknown) => e);
    expect(pubErr).toBeInstanceOf(GreengrassIpcError);
    expect((pubErr as Error).message).toMatch(
      /PublishToIoTCore on secret\/x refused by the nucleus: UnauthorizedError/,
    );
    // The refused subscription is not remembered: no stream is left open for it.
    expect(fixture.server.openStreams()).toEqual([]);
  });

  it('rejects publish with TransportOfflineError before connecting', async () => {
    const t = transport();
    const err = await t.publish('out/a', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportOfflineError);
  });

  it('re-establishes the connection and every subscription after the nucleus drops it', async () => {
    const t = transport();
    const events: string[] = [];
    t.on('connected', (e) => events.push(`connected:${e.reconnect}`));
    t.on('disconnected', () => events.push('disconnected'));
    await t.connect();
    const received: string[] = [];
    await t.subscribe('devices/+/cmd', (topic) => received.push(topic));
    await t.subscribe('jobs/+/notify', (topic) => received.push(topic));
    const firstConnection = fixture.server.connections()[0]?.id;

    fixture.server.dropConnections();
    await waitFor(() => events.includes('disconnected'), 'disconnected');
    await waitFor(() => events.includes('connected:true'), 'reconnected');
    expect(events).toEqual(['connected:false', 'disconnected', 'connected:true']);
    expect(t.connected).toBe(true);
    const [connection] = fixture.server.connections();
    expect(connection?.id).not.toBe(firstConnection);
    expect(connection?.openStreams.map((s) => s.operation).sort()).toEqual([
      'SubscribeToIoTCore',
      'SubscribeToIoTCore',
    ]);

    const mqtt = await fixture.mqttClient();
    await mqtt.publishAsync('devices/d9/cmd', 'again', { qos: 1 });
    await mqtt.publishAsync('jobs/j1/notify', 'again', { qos: 1 });
    await waitFor(() => received.length >= 2, 'both messages after the reconnect');
    expect(received.sort()).toEqual(['devices/d9/cmd', 'jobs/j1/notify']);

    await t.publish('out/after', 'ok');
  });

  it('opens a subscription stream again when the nucleus ends it while connected', async () => {
    const t = transport();
    await t.connect();
    const received: string[] = [];
    await t.subscribe('devices/+/cmd', (topic) => received.push(topic));
    expect(fixture.server.terminateStreams('SubscribeToIoTCore')).toBe(1);
    await waitFor(
      () => fixture.server.requests('SubscribeToIoTCore').length === 2,
      'a second SubscribeToIoTCore',
    );
    await waitFor(() => fixture.server.openStreams().length === 1, 'the stream open again');
    expect(t.connected).toBe(true);
    const mqtt = await fixture.mqttClient();
    await mqtt.publishAsync('devices/d3/cmd', 'x', { qos: 1 });
    await waitFor(() => received.length === 1, 'the message');
    expect(received).toEqual(['devices/d3/cmd']);
  });

  it('remembers a subscription made while offline and opens it on connect', async () => {
    const t = transport();
    const received: string[] = [];
    await t.subscribe('devices/early', (topic) => received.push(topic));
    expect(fixture.server.openStreams()).toEqual([]);
    await t.connect();
    expect(fixture.server.openStreams().map((s) => s.operation)).toEqual(['SubscribeToIoTCore']);
    const mqtt = await fixture.mqttClient();
    await mqtt.publishAsync('devices/early', 'x', { qos: 1 });
    await waitFor(() => received.length === 1, 'the message');
  });

  it('shares one stream among handlers of the same filter', async () => {
    const t = transport();
    await t.connect();
    const a: string[] = [];
    const b: string[] = [];
    await t.subscribe('devices/shared', (topic) => a.push(topic));
    await t.subscribe('devices/shared', (topic) => b.push(topic));
    expect(fixture.server.openStreams()).toHaveLength(1);
    const mqtt = await fixture.mqttClient();
    await mqtt.publishAsync('devices/shared', 'x', { qos: 1 });
    await waitFor(() => a.length === 1 && b.length === 1, 'both handlers');
  });

  it('close() terminates every stream and the connection, and is idempotent', async () => {
    const t = transport();
    await t.connect();
    await t.subscribe('devices/one', () => {});
    await t.subscribe('devices/two', () => {});
    expect(fixture.server.openStreams()).toHaveLength(2);
    const disconnected: unknown[] = [];
    t.on('disconnected', (e) => disconnected.push(e));

    await t.close();
    await t.close();
    expect(t.connected).toBe(false);
    expect(disconnected).toHaveLength(1);
    await waitFor(() => fixture.server.openStreams().length === 0, 'no open streams on the server');
    await waitFor(() => fixture.server.connections().length === 0, 'no connections on the server');
    await expect(t.connect()).rejects.toBeInstanceOf(TransportConnectError);
  });

  it('close() during connect() fails that connect() instead of leaving it pending', async () => {
    const t = transport();
    const connecting = t.connect().catch((e: unknown) => e);
    await t.close();
    const err = await connecting;
    expect(err).toBeInstanceOf(TransportConnectError);
    expect(t.connected).toBe(false);
    await waitFor(() => fixture.server.connections().length === 0, 'no connections on the server');
  });

  it('reportComponentState records RUNNING then ERRORED with the nucleus', async () => {
    const t = transport();
    await t.connect();
    await reportComponentState(t, 'RUNNING');
    await reportComponentState(t.connection, 'ERRORED');
    await reportComponentState(t.connection.client(), 'RUNNING');
    expect(fixture.server.states()).toEqual(['RUNNING', 'ERRORED', 'RUNNING']);
  });

  it('reportComponentState rejects an unknown state and an offline connection', async () => {
    const t = transport();
    await expect(reportComponentState(t, 'BROKEN' as 'RUNNING')).rejects.toThrow(
      /state must be RUNNING or ERRORED/,
    );
    await expect(reportComponentState(t, 'RUNNING')).rejects.toBeInstanceOf(TransportOfflineError);
    expect(fixture.server.states()).toEqual([]);
  });
});
