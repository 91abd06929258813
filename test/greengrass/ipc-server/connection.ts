// One client connection: the Connect/ConnectAck handshake (SVCUID check), connection-level
// messages (Ping), and routing stream messages to operation handlers. Protocol violations get a
// ProtocolError and the socket is closed, as the eventstream RPC server does.
import type { Socket } from 'node:net';
import type { MessageHeaders } from '@smithy/eventstream-codec';
import {
  decodeRpcMessage,
  encodeRpcMessage,
  FrameReader,
  type RpcMessage,
  readStringHeader,
  stringHeader,
} from './framing.js';
import { OPERATION_HANDLERS } from './handlers/index.js';
import type { ServerState } from './operation-context.js';
import { Header, MessageFlags, MessageType, operationName, PROTOCOL_VERSION } from './protocol.js';
import { type OutgoingStreamMessage, ServerStream } from './server-stream.js';

export interface ConnectionHooks {
  svcuid: string;
  state: ServerState;
  /** Every operation request that passed framing, for the test API's requests(op). */
  onRequest(operation: string, request: unknown): void;
  onClosed(connection: IpcConnection): void;
}

export interface OpenStreamInfo {
  streamId: number;
  operation: string;
}

type Phase = 'awaiting-connect' | 'accepted' | 'closed';

function parseJsonObject(payload: Uint8Array): Record<string, unknown> | undefined {
  if (payload.byteLength === 0) return {};
  try {
    const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export class IpcConnection {
  private phase: Phase = 'awaiting-connect';
  private readonly reader = new FrameReader();
  private readonly streams = new Map<number, ServerStream>();
  private lastStreamId = 0;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly hooks: ConnectionHooks,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => this.onSocketClosed());
  }

  private isClosed(): boolean {
    return this.phase === 'closed';
  }

  get accepted(): boolean {
    return this.phase === 'accepted';
  }

  openStreams(): OpenStreamInfo[] {
    return [...this.streams.values()].map((s) => ({ streamId: s.streamId, operation: s.operation }));
  }

  /** Ends this connection's open streams of `operation` with TerminateStream; returns how many. */
  terminateStreams(operation: string): number {
    const matching = [...this.streams.values()].filter((s) => s.operation === operation);
    for (const stream of matching) stream.terminate();
    return matching.length;
  }

  /** Abrupt loss of the connection, as when the nucleus restarts. */
  drop(): void {
    this.socket.destroy();
  }

  /** Orderly shutdown: terminate open streams, then close the socket. */
  async shutdown(): Promise<void> {
    for (const stream of [...this.streams.values()]) stream.terminate();
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
      // end() waits for the peer; do not let a silent peer hold the server open.
      setTimeout(() => this.socket.destroy(), 1_000).unref();
    });
  }

  private write(message: {
    type: number;
    flags?: number;
    streamId?: number;
    headers?: MessageHeaders;
    payload?: Uint8Array;
  }): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    this.socket.write(encodeRpcMessage(message));
  }

  private protocolError(reason: string): void {
    this.write({
      type: MessageType.ProtocolError,
      headers: { [Header.contentType]: stringHeader('text/plain') },
      payload: new TextEncoder().encode(reason),
    });
    this.phase = 'closed';
    this.socket.end();
  }

  private onData(chunk: Buffer) {
    if (this.phase === 'closed') return;
    let frames: Uint8Array[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      return this.protocolError((err as Error).message);
    }
    for (const frame of frames) {
      // A previous frame may have closed the connection (protocol error, refused handshake).
      if (this.isClosed()) return;
      let message: RpcMessage;
      try {
        message = decodeRpcMessage(frame);
      } catch (err) {
        return this.protocolError((err as Error).message);
      }
      if (this.phase === 'awaiting-connect') this.onHandshake(message);
      else if (message.streamId === 0) this.onConnectionMessage(message);
      else this.onStreamMessage(message);
    }
  }

  private onHandshake(message: RpcMessage) {
    if (message.type !== MessageType.Connect || message.streamId !== 0) {
      return this.protocolError('the first message must be Connect on stream 0');
    }
    if (readStringHeader(message, Header.version) !== PROTOCOL_VERSION) {
      return this.protocolError(`:version must be ${PROTOCOL_VERSION}`);
    }
    const authToken = parseJsonObject(message.payload)?.authToken;
    if (authToken !== this.hooks.svcuid) {
      // Refusal: a ConnectAck without the accepted flag, then close.
      this.write({ type: MessageType.ConnectAck, flags: MessageFlags.None });
      this.phase = 'closed';
      this.socket.end();
      return;
    }
    this.phase = 'accepted';
    this.write({ type: MessageType.ConnectAck, flags: MessageFlags.ConnectionAccepted });
  }

  private onConnectionMessage(message: RpcMessage) {
    switch (message.type) {
      case MessageType.Ping: {
        // Echo the payload and the application (non-`:`) headers.
        const headers = Object.fromEntries(
          Object.entries(message.headers).filter(([name]) => !name.startsWith(':')),
        );
        return this.write({ type: MessageType.PingResponse, headers, payload: message.payload });
      }
      case MessageType.PingResponse:
        return;
      default:
        return this.protocolError(
          `message type ${message.type} is not allowed on stream 0 after the handshake`,
        );
    }
  }

  private onStreamMessage(message: RpcMessage) {
    if (message.type !== MessageType.ApplicationMessage && message.type !== MessageType.ApplicationError) {
      return this.protocolError(`message type ${message.type} is not allowed on stream ${message.streamId}`);
    }
    const existing = this.streams.get(message.streamId);
    if (existing) {
      // None of the operations served here take client-streamed messages; only termination matters.
      if (message.flags & MessageFlags.TerminateStream) existing.end();
      return;
    }
    if (message.streamId <= this.lastStreamId || message.streamId < 0) {
      // A late message on a stream that already ended (e.g. the client's terminate crossing ours).
      return;
    }
    this.lastStreamId = message.streamId;
    const qualified = readStringHeader(message, Header.operation);
    if (!qualified)
      return this.protocolError(`stream ${message.streamId} starts without an operation header`);
    this.startOperation(message, qualified);
  }

  private startOperation(message: RpcMessage, qualified: string) {
    const name = operationName(qualified) ?? qualified;
    const request = parseJsonObject(message.payload);
    const stream = new ServerStream(
      message.streamId,
      name,
      request ?? {},
      (out: OutgoingStreamMessage) => this.write({ ...out, streamId: message.streamId }),
      (ended) => this.streams.delete(ended.streamId),
    );
    this.streams.set(message.streamId, stream);
    this.hooks.onRequest(name, request);
    if (!request) return stream.fail('ServiceError', 'the request payload must be a JSON object');
    const handler = operationName(qualified) ? OPERATION_HANDLERS.get(name) : undefined;
    if (!handler)
      return stream.fail('ServiceError', `operation ${qualified} is not supported by this server`);
    Promise.resolve()
      .then(() => handler(stream, this.hooks.state))
      .catch((err: unknown) => stream.fail('ServiceError', `internal error: ${(err as Error).message}`));
  }

  private onSocketClosed(): void {
    this.phase = 'closed';
    for (const stream of [...this.streams.values()]) stream.end();
    this.hooks.onClosed(this);
  }
}
