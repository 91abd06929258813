// MQTT 5 clients on the local broker. aedes speaks MQTT 3.1.1 only, while AWS IoT Core (and with it
// the device SDK's mqtt5 client that ggjobs' iot-core transport uses) speaks MQTT 5 too. Each new
// connection is sniffed: a 3.1/3.1.1 CONNECT goes to aedes untouched; an MQTT 5 connection is
// translated packet by packet (mqtt-packet parses and generates both versions) over an in-memory
// stream pair whose other end aedes handles as an MQTT 3.1.1 client.
// Properties are dropped (AWS IoT Jobs uses none), reason codes are mapped, and the CONNACK tells
// the client what AWS IoT Core tells it: QoS 1 at most, no topic aliases, no shared subscriptions.
// Sessions: MQTT 5 keeps one after a disconnect when sessionExpiryInterval > 0; aedes keeps one when
// `clean` is false, so that is what such a connection becomes. A Clean Start with a session expiry
// resumes aedes's stored subscriptions but is told no session was present, as MQTT 5 requires; the
// client subscribes again (nothing beyond duplicate subscriptions differs).
import { Duplex } from 'node:stream';
import mqttPacket, { type IConnectPacket, type Packet } from 'mqtt-packet';

/** 3.1.1 CONNACK return codes -> MQTT 5 CONNACK reason codes. */
const CONNACK_REASON: Record<number, number> = { 0: 0, 1: 0x84, 2: 0x85, 3: 0x88, 4: 0x86, 5: 0x87 };
const V5 = { protocolVersion: 5 };
/** aedes' own default: a connection that sends no CONNECT within this time is dropped. */
const CONNECT_TIMEOUT_MS = 30_000;

/** Two streams whose writes come out of the other one (node:stream's duplexPair is Node >= 22.6). */
function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (other: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        other().push(chunk);
        callback();
      },
      final(callback) {
        other().push(null);
        callback();
      },
    });
  sides.push(
    make(() => sides[1]!),
    make(() => sides[0]!),
  );
  const [a, b] = sides as [Duplex, Duplex];
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
  // Errors end both sides; they must never surface as unhandled 'error' events.
  a.on('error', () => a.destroy());
  b.on('error', () => b.destroy());
  return [a, b];
}

/** The MQTT 3.1.1 CONNECT aedes receives for an MQTT 5 CONNECT. */
export function connectToV4(packet: IConnectPacket): IConnectPacket {
  const expiry = packet.properties?.sessionExpiryInterval ?? 0;
  const { properties: _properties, ...rest } = packet;
  const will = packet.will ? { ...packet.will, properties: undefined } : undefined;
  return {
    ...rest,
    protocolVersion: 4,
    protocolId: 'MQTT',
    clean: expiry === 0,
    ...(will
      ? { will: { topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain } }
      : {}),
  };
}

/** Translates one packet from aedes (3.1.1) for the MQTT 5 client; undefined = nothing to send. */
export function brokerPacketToV5(
  packet: Packet,
  pendingUnsubscribes: Map<number, number>,
  cleanStart = false,
): Packet | undefined {
  switch (packet.cmd) {
    case 'connack':
      return {
        cmd: 'connack',
        // MQTT 5: Clean Start means no session is present (the client treats anything else as an error).
        sessionPresent: cleanStart ? false : packet.sessionPresent,
        reasonCode: CONNACK_REASON[packet.returnCode ?? 0] ?? 0x80,
        properties: {
          maximumQoS: 1,
          topicAliasMaximum: 0,
          sharedSubscriptionAvailable: false,
          wildcardSubscriptionAvailable: true,
          subscriptionIdentifiersAvailable: false,
        },
      };
    case 'suback':
      return { ...packet, granted: (packet.granted as number[]).map((g) => (g === 128 ? 0x80 : g)) };
    case 'unsuback': {
      const count = pendingUnsubscribes.get(packet.messageId ?? 0) ?? 1;
      pendingUnsubscribes.delete(packet.messageId ?? 0);
      return { ...packet, granted: Array.from({ length: count }, () => 0) };
    }
    default:
      return packet;
  }
}

/** Translates one packet from the MQTT 5 client for aedes (3.1.1); undefined = nothing to send. */
export function clientPacketToV4(
  packet: Packet,
  pendingUnsubscribes: Map<number, number>,
): Packet | undefined {
  switch (packet.cmd) {
    case 'connect':
      return connectToV4(packet);
    case 'publish': {
      const { properties: _p, ...rest } = packet;
      return rest;
    }
    case 'subscribe':
      return {
        cmd: 'subscribe',
        messageId: packet.messageId,
        subscriptions: packet.subscriptions.map(({ topic, qos }) => ({ topic, qos })),
      };
    case 'unsubscribe':
      pendingUnsubscribes.set(packet.messageId ?? 0, packet.unsubscriptions.length);
      return { cmd: 'unsubscribe', messageId: packet.messageId, unsubscriptions: packet.unsubscriptions };
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return { cmd: packet.cmd, messageId: packet.messageId } as Packet;
    case 'disconnect':
      return { cmd: 'disconnect' };
    case 'auth':
      return undefined;
    default:
      return packet;
  }
}

/**
 * Hands `socket` to `handle` (aedes.handle) directly for MQTT 3.1/3.1.1 clients, and through an
 * MQTT 5 <-> 3.1.1 translation for MQTT 5 clients.
 */
export function acceptMqttConnection(socket: Duplex, handle: (stream: Duplex) => void): void {
  const received: Buffer[] = [];
  const sniffer = mqttPacket.parser();
  let decided = false;
  // Until the CONNECT arrives aedes does not own the socket, so its connect timeout is enforced here.
  const connectTimer = setTimeout(() => socket.destroy(), CONNECT_TIMEOUT_MS);
  connectTimer.unref();
  socket.once('close', () => clearTimeout(connectTimer));

  const onData = (chunk: Buffer) => {
    received.push(chunk);
    sniffer.parse(chunk);
  };
  const giveUp = () => {
    if (decided) return;
    decided = true;
    clearTimeout(connectTimer);
    socket.off('data', onData);
    socket.pause();
    socket.unshift(Buffer.concat(received));
    handle(socket);
  };
  sniffer.on('error', giveUp); // not MQTT as we know it: aedes refuses it the usual way
  sniffer.once('packet', (first: Packet) => {
    if (decided) return;
    if (first.cmd !== 'connect' || first.protocolVersion !== 5) {
      giveUp();
      return;
    }
    decided = true;
    clearTimeout(connectTimer);
    socket.off('data', onData);
    bridgeV5(socket, sniffer, first, handle);
  });
  socket.on('data', onData);
}

function bridgeV5(
  socket: Duplex,
  clientParser: ReturnType<typeof mqttPacket.parser>,
  connect: IConnectPacket,
  handle: (stream: Duplex) => void,
): void {
  const [brokerSide, adapterSide] = duplexPair();
  const pendingUnsubscribes = new Map<number, number>();
  const toBroker = (packet: Packet) => {
    const v4 = clientPacketToV4(packet, pendingUnsubscribes);
    if (v4 && !adapterSide.destroyed) adapterSide.write(mqttPacket.generate(v4));
  };
  // The sniffer goes on parsing the client's stream as MQTT 5 (it adopted the CONNECT's version).
  clientParser.removeAllListeners('packet');
  clientParser.removeAllListeners('error');
  clientParser.on('packet', toBroker);
  clientParser.on('error', () => socket.destroy());
  toBroker(connect);
  socket.on('data', (chunk: Buffer) => clientParser.parse(chunk));

  const brokerParser = mqttPacket.parser();
  brokerParser.on('packet', (packet: Packet) => {
    const v5 = brokerPacketToV5(packet, pendingUnsubscribes, connect.clean !== false);
    if (v5 && !socket.destroyed) socket.write(mqttPacket.generate(v5, V5));
  });
  brokerParser.on('error', () => socket.destroy());
  adapterSide.on('data', (chunk: Buffer) => brokerParser.parse(chunk));
  adapterSide.on('end', () => socket.end());

  socket.on('close', () => adapterSide.destroy());
  adapterSide.on('close', () => socket.destroy());
  socket.resume();
  handle(brokerSide);
}
