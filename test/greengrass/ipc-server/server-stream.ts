// One operation stream on a connection, as the handler sees it (StreamContext). Keeps the protocol
// order: the `<Operation>Response` first, events only after it (buffered until then), nothing after close.

import type { MessageHeaders } from '@smithy/eventstream-codec';
import { stringHeader } from './framing.js';
import type { StreamContext } from './operation-context.js';
import {
  Header,
  JSON_CONTENT_TYPE,
  MessageFlags,
  MessageType,
  type ModeledErrorName,
  modeledErrorBody,
  shape,
} from './protocol.js';

export interface OutgoingStreamMessage {
  type: number;
  flags: number;
  headers: MessageHeaders;
  payload: Uint8Array;
}

function jsonMessage(type: number, flags: number, shapeName: string, body: unknown): OutgoingStreamMessage {
  return {
    type,
    flags,
    headers: {
      [Header.contentType]: stringHeader(JSON_CONTENT_TYPE),
      [Header.serviceModelType]: stringHeader(shape(shapeName)),
    },
    payload: new TextEncoder().encode(JSON.stringify(body)),
  };
}

export class ServerStream implements StreamContext {
  private responded = false;
  private isClosed = false;
  private readonly pendingEvents: OutgoingStreamMessage[] = [];
  private readonly cleanups: Array<() => void | Promise<void>> = [];

  constructor(
    readonly streamId: number,
    readonly operation: string,
    readonly request: Record<string, unknown>,
    private readonly send: (message: OutgoingStreamMessage) => void,
    private readonly onEnded: (stream: ServerStream) => void,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  respond(body: unknown, options: { terminate: boolean }): void {
    if (this.isClosed || this.responded) return;
    this.responded = true;
    const flags = options.terminate ? MessageFlags.TerminateStream : MessageFlags.None;
    this.send(jsonMessage(MessageType.ApplicationMessage, flags, `${this.operation}Response`, body));
    if (options.terminate) {
      this.end();
      return;
    }
    for (const event of this.pendingEvents.splice(0)) this.send(event);
  }

  sendEvent(shapeName: string, body: unknown): void {
    if (this.isClosed) return;
    const event = jsonMessage(MessageType.ApplicationMessage, MessageFlags.None, shapeName, body);
    if (this.responded) this.send(event);
    else this.pendingEvents.push(event);
  }

  fail(error: ModeledErrorName, message: string): void {
    if (this.isClosed) return;
    this.responded = true;
    this.send(
      jsonMessage(
        MessageType.ApplicationError,
        MessageFlags.TerminateStream,
        error,
        modeledErrorBody(error, message),
      ),
    );
    this.end();
  }

  onClose(cleanup: () => void | Promise<void>): void {
    if (this.isClosed)
      void Promise.resolve()
        .then(cleanup)
        .catch(() => {});
    else this.cleanups.push(cleanup);
  }

  /** Server side: ends the stream with an empty TerminateStream message (e.g. server shutting down). */
  terminate(): void {
    if (this.isClosed) return;
    this.send({
      type: MessageType.ApplicationMessage,
      flags: MessageFlags.TerminateStream,
      headers: {},
      payload: new Uint8Array(0),
    });
    this.end();
  }

  /** The client terminated the stream or the connection is gone: nothing more is sent. */
  end(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.pendingEvents.length = 0;
    for (const cleanup of this.cleanups.splice(0)) {
      void Promise.resolve()
        .then(cleanup)
        .catch(() => {});
    }
    this.onEnded(this);
  }
}
