// Framing for the test server: one eventstream message <-> one RpcMessage, and reassembly of
// socket chunks into whole messages. @smithy/eventstream-codec does the binary work (prelude,
// headers, CRC32s) on ONE complete message, so splitting the byte stream is done here.
import { EventStreamCodec, type MessageHeaders, type MessageHeaderValue } from '@smithy/eventstream-codec';
import { Header } from './protocol.js';

// @smithy/util-utf8 is not installed on its own; these have the same shapes.
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const toUtf8 = (bytes: Uint8Array): string => utf8Decoder.decode(bytes);
const fromUtf8 = (text: string): Uint8Array => utf8Encoder.encode(text);

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** total length + headers length + prelude CRC + message CRC. */
export const MIN_FRAME_BYTES = 16;
/** Eventstream allows 16 MiB of payload plus 128 KiB of headers; anything larger is garbage. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024 + 128 * 1024 + MIN_FRAME_BYTES;

export class FramingError extends Error {
  override name = 'FramingError';
}

/** One eventstream RPC message: the three int32 protocol headers lifted out, every other header kept. */
export interface RpcMessage {
  type: number;
  flags: number;
  streamId: number;
  /** Headers other than :message-type, :message-flags and :stream-id. */
  headers: MessageHeaders;
  payload: Uint8Array;
}

export function stringHeader(value: string): MessageHeaderValue {
  return { type: 'string', value };
}

/** The string value of a header, or undefined when absent or not a string. */
export function readStringHeader(message: RpcMessage, name: string): string | undefined {
  const header = message.headers[name];
  return header?.type === 'string' ? header.value : undefined;
}

export function encodeRpcMessage(message: {
  type: number;
  flags?: number;
  streamId?: number;
  headers?: MessageHeaders;
  payload?: Uint8Array;
}): Uint8Array {
  const headers: MessageHeaders = {
    [Header.messageType]: { type: 'integer', value: message.type },
    [Header.messageFlags]: { type: 'integer', value: message.flags ?? 0 },
    [Header.streamId]: { type: 'integer', value: message.streamId ?? 0 },
    ...message.headers,
  };
  return codec.encode({ headers, body: message.payload ?? new Uint8Array(0) });
}

function requireInt32(headers: MessageHeaders, name: string): number {
  const header = headers[name];
  if (!header) throw new FramingError(`message has no ${name} header`);
  if (header.type !== 'integer') throw new FramingError(`${name} header must be int32, got ${header.type}`);
  return header.value;
}

/** Decodes one complete frame; throws FramingError on a bad CRC, bad header block or missing protocol header. */
export function decodeRpcMessage(frame: Uint8Array): RpcMessage {
  let decoded: { headers: MessageHeaders; body: Uint8Array };
  try {
    decoded = codec.decode(frame);
  } catch (err) {
    throw new FramingError(`undecodable eventstream message: ${(err as Error).message}`);
  }
  const {
    [Header.messageType]: _t,
    [Header.messageFlags]: _f,
    [Header.streamId]: _s,
    ...rest
  } = decoded.headers;
  return {
    type: requireInt32(decoded.headers, Header.messageType),
    flags: requireInt32(decoded.headers, Header.messageFlags),
    streamId: requireInt32(decoded.headers, Header.streamId),
    headers: rest,
    payload: decoded.body,
  };
}

/**
 * Splits a byte stream into whole frames using the big-endian total-length prefix. Keeps the
 * incomplete tail for the next chunk; throws FramingError when a prefix is impossible.
 */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): Uint8Array[] {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const frames: Uint8Array[] = [];
    while (this.pending.length >= 4) {
      const total = this.pending.readUInt32BE(0);
      if (total < MIN_FRAME_BYTES || total > MAX_FRAME_BYTES) {
        throw new FramingError(`impossible message length ${total}`);
      }
      if (this.pending.length < total) break;
      // Copy so a frame never aliases the (reused) pending buffer.
      frames.push(Uint8Array.prototype.slice.call(this.pending, 0, total));
      this.pending = this.pending.subarray(total);
    }
    return frames;
  }

  /** Bytes received that do not yet form a whole frame. */
  get bufferedBytes(): number {
    return this.pending.length;
  }
}
