// Unit tests of the test server's pure parts: eventstream framing, topic filters, configuration lookups.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { changedKeyPaths, keyPathConcerns, lookupConfiguration } from './ipc-server/configuration-store.js';
import {
  decodeRpcMessage,
  encodeRpcMessage,
  FrameReader,
  FramingError,
  MAX_FRAME_BYTES,
  readStringHeader,
  stringHeader,
} from './ipc-server/framing.js';
import {
  Header,
  MessageFlags,
  MessageType,
  modeledErrorBody,
  operationName,
  shape,
} from './ipc-server/protocol.js';
import { allowedByResources, topicMatchesFilter } from './ipc-server/topic-filter.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('eventstream framing', () => {
  it('encodes the wire layout: total length, headers length, prelude CRC, headers, payload, CRC', () => {
    const payload = utf8('{"authToken":"abc"}');
    const frame = encodeRpcMessage({
      type: MessageType.Connect,
      headers: { [Header.version]: stringHeader('0.1.0') },
      payload,
    });
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    expect(view.getUint32(0)).toBe(frame.byteLength);
    const headersLength = view.getUint32(4);
    expect(frame.byteLength).toBe(12 + headersLength + payload.byteLength + 4);
    // The payload sits between the headers and the trailing CRC.
    expect(Buffer.from(frame.subarray(12 + headersLength, frame.byteLength - 4)).toString()).toBe(
      '{"authToken":"abc"}',
    );
    // :message-type is int32 (header value type 4) with value 4 (Connect).
    const nameLength = frame[12] ?? 0;
    expect(Buffer.from(frame.subarray(13, 13 + nameLength)).toString()).toBe(':message-type');
    expect(frame[13 + nameLength]).toBe(4);
    expect(view.getInt32(14 + nameLength)).toBe(MessageType.Connect);
  });

  it('round-trips the protocol headers, other headers and the payload', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.string({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 300 }),
        (type, flags, streamId, operation, payload) => {
          const frame = encodeRpcMessage({
            type,
            flags,
            streamId,
            headers: { [Header.operation]: stringHeader(operation) },
            payload,
          });
          const message = decodeRpcMessage(frame);
          expect(message).toMatchObject({ type, flags, streamId });
          expect(readStringHeader(message, Header.operation)).toBe(operation);
          expect(Object.keys(message.headers)).toEqual([Header.operation]);
          expect(Buffer.from(message.payload).equals(Buffer.from(payload))).toBe(true);
        },
      ),
    );
  });

  it('rejects a frame without an int32 :stream-id', () => {
    const frame = encodeRpcMessage({
      type: MessageType.Ping,
      headers: { [Header.streamId]: stringHeader('1') },
    });
    expect(() => decodeRpcMessage(frame)).toThrow(FramingError);
    expect(() => decodeRpcMessage(frame)).toThrow(/:stream-id header must be int32/);
  });

  it('rejects a frame whose CRC does not match', () => {
    const frame = encodeRpcMessage({ type: MessageType.Ping, payload: utf8('ping') });
    const at = frame.byteLength - 6; // a payload byte
    frame[at] = (frame[at] ?? 0) ^ 0xff;
    expect(() => decodeRpcMessage(frame)).toThrow(FramingError);
  });

  it('reassembles frames however the byte stream is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 30 }),
        (payloads, chunkSizes) => {
          const frames = payloads.map((payload, i) =>
            encodeRpcMessage({ type: MessageType.ApplicationMessage, streamId: i + 1, payload }),
          );
          const stream = Buffer.concat(frames);
          const reader = new FrameReader();
          const out: Uint8Array[] = [];
          let offset = 0;
          for (let i = 0; offset < stream.length; i++) {
            const size = chunkSizes[i % chunkSizes.length] ?? 1;
            out.push(...reader.push(stream.subarray(offset, offset + size)));
            offset += size;
          }
          expect(reader.bufferedBytes).toBe(0);
          expect(out.map((f) => decodeRpcMessage(f).streamId)).toEqual(payloads.map((_, i) => i + 1));
          out.forEach((f, i) => {
            expect(Buffer.from(decodeRpcMessage(f).payload).equals(Buffer.from(payloads[i] ?? []))).toBe(
              true,
            );
          });
        },
      ),
    );
  });

  it('keeps a partial frame until the rest arrives', () => {
    const frame = encodeRpcMessage({ type: MessageType.Ping, payload: utf8('hello') });
    const reader = new FrameReader();
    expect(reader.push(frame.subarray(0, 3))).toEqual([]);
    expect(reader.push(frame.subarray(3, 10))).toEqual([]);
    expect(reader.bufferedBytes).toBe(10);
    const [whole] = reader.push(frame.subarray(10));
    expect(whole && decodeRpcMessage(whole).type).toBe(MessageType.Ping);
  });

  it('rejects impossible length prefixes', () => {
    const tooSmall = Buffer.alloc(8);
    tooSmall.writeUInt32BE(15, 0);
    expect(() => new FrameReader().push(tooSmall)).toThrow(/impossible message length 15/);
    const tooBig = Buffer.alloc(8);
    tooBig.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    expect(() => new FrameReader().push(tooBig)).toThrow(FramingError);
  });
});

describe('protocol helpers', () => {
  it('qualifies and strips the aws.greengrass namespace', () => {
    expect(shape('IoTCoreMessage')).toBe('aws.greengrass#IoTCoreMessage');
    expect(operationName('aws.greengrass#PublishToIoTCore')).toBe('PublishToIoTCore');
    expect(operationName('aws.other#PublishToIoTCore')).toBeUndefined();
  });

  it('builds modeled error bodies the way the nucleus sends them', () => {
    expect(modeledErrorBody('UnauthorizedError', 'no')).toEqual({
      message: 'no',
      _message: 'no',
      _errorCode: 'UnauthorizedError',
      _service: 'aws.greengrass#GreengrassCoreIPC',
    });
    expect(MessageFlags.TerminateStream).toBe(2);
  });
});

describe('topic filters', () => {
  it.each([
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/b/d', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['#', 'x/y', true],
    ['a/b', 'a/b/c', false],
    ['a/+', 'a', false],
    ['$aws/things/T/jobs/#', '$aws/things/T/jobs/J/get/accepted', true],
  ])('%s matches %s: %s', (filter, topic, expected) => {
    expect(topicMatchesFilter(filter, topic)).toBe(expected);
  });

  it('access control allows exact resources, covering filters and *', () => {
    expect(allowedByResources(['jobs/#'], 'jobs/+/notify')).toBe(true);
    expect(allowedByResources(['jobs/+/notify'], 'jobs/+/notify')).toBe(true);
    expect(allowedByResources(['jobs/a/notify'], 'jobs/+/notify')).toBe(false);
    expect(allowedByResources(['*'], 'anything/at/all')).toBe(true);
    expect(allowedByResources([], 'x')).toBe(false);
  });
});

describe('configuration store', () => {
  const config = { a: { b: '1', c: { d: 'x' } }, e: 'top' };

  it('answers [] with everything, an object path with the object, a leaf wrapped under its key', () => {
    expect(lookupConfiguration(config, [])).toEqual({ found: true, value: config });
    expect(lookupConfiguration(config, ['a', 'c'])).toEqual({ found: true, value: { d: 'x' } });
    expect(lookupConfiguration(config, ['a', 'b'])).toEqual({ found: true, value: { b: '1' } });
    expect(lookupConfiguration(config, ['a', 'zz'])).toEqual({ found: false });
    expect(lookupConfiguration(config, ['e', 'deeper'])).toEqual({ found: false });
  });

  it('returns copies, so callers cannot change the stored configuration', () => {
    const result = lookupConfiguration(config, ['a']);
    if (result.found) (result.value as Record<string, unknown>).b = 'changed';
    expect(config.a.b).toBe('1');
  });

  it('lists the changed, added and removed leaf paths', () => {
    expect(changedKeyPaths(config, config)).toEqual([]);
    expect(changedKeyPaths(config, { a: { b: '2', c: { d: 'x' } }, f: 'new' })).toEqual([
      ['a', 'b'],
      ['e'],
      ['f'],
    ]);
    expect(changedKeyPaths({ a: 'leaf' }, { a: { b: '1' } })).toEqual([['a', 'b']]);
  });

  it('relates subscriptions and changes by key path prefix', () => {
    expect(keyPathConcerns([], ['a', 'b'])).toBe(true);
    expect(keyPathConcerns(['a'], ['a', 'b'])).toBe(true);
    expect(keyPathConcerns(['a', 'b', 'c'], ['a', 'b'])).toBe(true);
    expect(keyPathConcerns(['x'], ['a', 'b'])).toBe(false);
  });
});
