// The IPC test server at the wire level, driven by a raw socket client, so the protocol details the
// SDK relies on (flags, stream ids, headers, refusal, ping) are checked directly.
import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type IpcFixture, startIpcFixture, waitFor } from './helpers.js';
import {
  decodeRpcMessage,
  encodeRpcMessage,
  FrameReader,
  type RpcMessage,
  readStringHeader,
  stringHeader,
} from './ipc-server/framing.js';
import { Header, MessageFlags, MessageType } from './ipc-server/protocol.js';

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const parse = (message: RpcMessage | undefined) => JSON.parse(Buffer.from(message?.payload ?? []).toString());

/** A bare eventstream client: sends frames, collects decoded replies. */
class RawClient {
  readonly received: RpcMessage[] = [];
  closed = false;
  private readonly reader = new FrameReader();
  constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      for (const frame of this.reader.push(chunk)) this.received.push(decodeRpcMessage(frame));
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {});
  }
  static async open(path: string): Promise<RawClient> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawClient(socket);
  }
  send(message: Parameters<typeof encodeRpcMessage>[0]): void {
    this.socket.write(encodeRpcMessage(message));
  }
  async next(predicate: (m: RpcMessage) => boolean = () => true): Promise<RpcMessage> {
    return waitFor(() => this.received.find(predicate), 'a message from the server');
  }
  async handshake(token: string): Promise<RpcMessage> {
    this.send({
      type: MessageType.Connect,
      headers: { [Header.version]: stringHeader('0.1.0') },
      payload: json({ authToken: token }),
    });
    return this.next((m) => m.type === MessageType.ConnectAck);
  }
  operation(streamId: number, operation: string | undefined, request: unknown): void {
    this.send({
      type: MessageType.ApplicationMessage,
      streamId,
      headers: operation ? { [Header.operation]: stringHeader(`aws.greengrass#${operation}`) } : {},
      payload: json(request),
    });
  }
}

describe('IPC test server (wire level)', () => {
  let fixture: IpcFixture;
  const clients: RawClient[] = [];

  async function client(): Promise<RawClient> {
    const c = await RawClient.open(fixture.socketPath);
    clients.push(c);
    return c;
  }

  beforeEach(async () => {
    fixture = await startIpcFixture({
      configuration: { listen: { requestTimeoutMs: '5000' } },
      accessControl: { subscribe: ['allowed/#'] },
    });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    await fixture.close();
  });

  it('accepts the right SVCUID with ConnectAck + ConnectionAccepted on stream 0', async () => {
    const c = await client();
    const ack = await c.handshake(fixture.svcuid);
    expect(ack).toMatchObject({
      type: MessageType.ConnectAck,
      flags: MessageFlags.ConnectionAccepted,
      streamId: 0,
    });
    await waitFor(() => fixture.server.connections()[0]?.accepted, 'accepted connection');
  });

  it('answers a wrong SVCUID with ConnectAck without the accepted flag, then closes', async () => {
    const c = await client();
    const ack = await c.handshake('wrong');
    expect(ack).toMatchObject({ type: MessageType.ConnectAck, flags: 0 });
    await waitFor(() => c.closed, 'socket closed');
  });

  it('answers anything before Connect with a ProtocolError and closes', async () => {
    const c = await client();
    c.operation(1, 'GetConfiguration', { keyPath: [] });
    const error = await c.next();
    expect(error.type).toBe(MessageType.ProtocolError);
    await waitFor(() => c.closed, 'socket closed');
  });

  it('echoes a Ping payload and application headers in a PingResponse', async () => {
    const c = await client();
    await c.handshake(fixture.svcuid);
    c.send({ type: MessageType.Ping, headers: { probe: stringHeader('42') }, payload: json({ n: 1 }) });
    const pong = await c.next((m) => m.type === MessageType.PingResponse);
    expect(readStringHeader(pong, 'probe')).toBe('42');
    expect(parse(pong)).toEqual({ n: 1 });
  });

  it('answers a one-shot operation with JSON, its response shape and TerminateStream', async () => {
    const c = await client();
    await c.handshake(fixture.svcuid);
    c.operation(1, 'GetConfiguration', { keyPath: ['listen', 'requestTimeoutMs'] });
    const reply = await c.next((m) => m.streamId === 1);
    expect(reply).toMatchObject({
      type: MessageType.ApplicationMessage,
      flags: MessageFlags.TerminateStream,
    });
    expect(readStringHeader(reply, Header.contentType)).toBe('application/json');
    expect(readStringHeader(reply, Header.serviceModelType)).toBe('aws.greengrass#GetConfigurationResponse');
    expect(parse(reply)).toEqual({
      componentName: 'com.example.ggjobs',
      value: { requestTimeoutMs: '5000' },
    });
  });

  it('answers modeled errors as ApplicationError with the error shape', async () => {
    const c = await client();
    await c.handshake(fixture.svcuid);
    c.operation(1, 'GetConfiguration', { keyPath: ['nope'] });
    c.operation(2, 'SubscribeToIoTCore', { topicName: 'forbidden/x', qos: '1' });
    c.operation(3, 'DeleteThingShadow', {});
    const notFound = await c.next((m) => m.streamId === 1);
    const unauthorized = await c.next((m) => m.streamId === 2);
    const unsupported = await c.next((m) => m.streamId === 3);
    for (const m of [notFound, unauthorized, unsupported]) {
      expect(m).toMatchObject({ type: MessageType.ApplicationError, flags: MessageFlags.TerminateStream });
    }
    expect(readStringHeader(notFound, Header.serviceModelType)).toBe('aws.greengrass#ResourceNotFoundError');
    expect(parse(unauthorized)._errorCode).toBe('UnauthorizedError');
    expect(readStringHeader(unsupported, Header.serviceModelType)).toBe('aws.greengrass#ServiceError');
    expect(fixture.server.openStreams()).toEqual([]);
  });

  it('streams IoTCoreMessage events after the response, until the client terminates the stream', async () => {
    const c = await client();
    await c.handshake(fixture.svcuid);
    c.operation(1, 'SubscribeToIoTCore', { topicName: 'allowed/#', qos: '1' });
    const response = await c.next((m) => m.streamId === 1);
    expect(response.flags).toBe(0);
    expect(readStringHeader(response, Header.serviceModelType)).toBe(
      'aws.greengrass#SubscribeToIoTCoreResponse',
    );

    const mqtt = await fixture.mqttClient();
    await mqtt.publishAsync('allowed/t', 'payload-1', { qos: 1 });
    const event = await c.next((m) => m.streamId === 1 && m !== response);
    expect(readStringHeader(event, Header.serviceModelType)).toBe('aws.greengrass#IoTCoreMessage');
    expect(event.flags).toBe(0);
    expect(parse(event).message).toMatchObject({
      topicName: 'allowed/t',
      payload: Buffer.from('payload-1').toString('base64'),
    });

    expect(fixture.server.openStreams()).toEqual([
      { streamId: 1, operation: 'SubscribeToIoTCore', connectionId: 1 },
    ]);
    c.send({ type: MessageType.ApplicationMessage, flags: MessageFlags.TerminateStream, streamId: 1 });
    await waitFor(() => fixture.server.openStreams().length === 0, 'stream closed on the server');
  });

  it('sends ConfigurationUpdateEvents with the changed key path', async () => {
    const c = await client();
    await c.handshake(fixture.svcuid);
    c.operation(1, 'SubscribeToConfigurationUpdate', { keyPath: ['listen'] });
    await c.next((m) => m.streamId === 1);
    fixture.server.setConfiguration({ listen: { requestTimeoutMs: '7000' }, other: 'x' });
    const event = await c.next(
      (m) => readStringHeader(m, Header.serviceModelType) === 'aws.greengrass#ConfigurationUpdateEvents',
    );
    expect(parse(event)).toEqual({
      configurationUpdateEvent: {
        componentName: 'com.example.ggjobs',
        keyPath: ['listen', 'requestTimeoutMs'],
      },
    });
    // 'other' is outside the subscribed key path: no second event.
    c.operation(2, 'UpdateState', { state: 'RUNNING' });
    await c.next((m) => m.streamId === 2);
    expect(c.received.filter((m) => m.streamId === 1)).toHaveLength(2);
  });

  it('answers a stream without an operation header with a ProtocolError', async () => {
    const c = await client();
    await c.handshake(fixture.svcuid);
    c.operation(1, undefined, {});
    const error = await c.next((m) => m.type === MessageType.ProtocolError);
    expect(error.streamId).toBe(0);
    await waitFor(() => c.closed, 'socket closed');
  });
});
