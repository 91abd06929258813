// The local stack's MQTT broker: aedes (MQTT 3.1.1) on a plain TCP net.Server on loopback.
// Tests need to simulate a broker outage, so the listener can be stopped (every client socket is
// destroyed, the way a dropped network looks to a device) and started again on the same port while
// aedes itself, and the session state it keeps, stays alive.
import net from 'node:net';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import type { Logger } from '../log.js';

export interface BrokerOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 1883; 0 = any free port (the port chosen is kept across stop/start). */
  port?: number;
  logger?: Logger;
}

/** A PUBLISH received from a connected client (never one of the broker's own publishes). */
export interface ClientPublish {
  topic: string;
  payload: Buffer;
  clientId: string;
}

export interface LocalBroker {
  readonly host: string;
  /** The port actually listened on. */
  readonly port: number;
  /** mqtt://HOST:PORT */
  readonly url: string;
  /** Publishes as the broker itself (QoS 1 by default, never retained). */
  publish(topic: string, payload: string | Buffer, qos?: 0 | 1): Promise<void>;
  /** Calls `listener` for every client PUBLISH; returns a function that removes the listener. */
  onClientPublish(listener: (message: ClientPublish) => void): () => void;
  /** Closes the listener and drops every client; state (sessions, subscriptions) is kept. */
  stop(): Promise<void>;
  /** Listens again, on the same host and port. */
  start(): Promise<void>;
  readonly listening: boolean;
  /** Stops and shuts aedes down; the broker cannot be started again. */
  close(): Promise<void>;
}

export async function startBroker(options: BrokerOptions = {}): Promise<LocalBroker> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger;
  // The heartbeat only matters for aedes clusters; keep it from firing in short-lived test stacks.
  const aedes = await Aedes.createBroker({ heartbeatInterval: 3_600_000 });
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = options.port ?? 1883;
  let closed = false;

  aedes.on('clientError', (client: Client, err: Error) => {
    logger?.debug({ clientId: client.id, err: err.message }, 'mqtt client error');
  });
  aedes.on('connectionError', (_client: Client, err: Error) => {
    logger?.debug({ err: err.message }, 'mqtt connection error');
  });

  async function listen(): Promise<void> {
    if (closed) throw new Error('the broker is closed');
    if (server) return;
    const srv = net.createServer((socket) => {
      sockets.add(socket);
      // MQTT request/response is many small writes: without this, Nagle's algorithm and delayed ACKs
      // add ~40 ms to every round trip on loopback (AWS IoT's brokers do not behave like that).
      socket.setNoDelay(true);
      socket.on('close', () => sockets.delete(socket));
      // A reset connection must never become an uncaught exception in the stack's process.
      socket.on('error', () => socket.destroy());
      aedes.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      srv.once('error', onError);
      srv.listen(port, host, () => {
        srv.off('error', onError);
        resolve();
      });
    });
    srv.on('error', (err) => logger?.warn({ err: err.message }, 'mqtt listener error'));
    const address = srv.address();
    if (address && typeof address === 'object') port = address.port;
    server = srv;
    logger?.debug({ host, port }, 'mqtt broker listening');
  }

  async function stopListening(): Promise<void> {
    const srv = server;
    if (!srv) return;
    server = undefined;
    const closedPromise = new Promise<void>((resolve) => srv.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await closedPromise;
    logger?.debug({ host, port }, 'mqtt broker stopped');
  }

  try {
    await listen();
  } catch (err) {
    closed = true;
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw err;
  }

  return {
    host,
    get port() {
      return port;
    },
    get url() {
      return `mqtt://${host}:${port}`;
    },
    get listening() {
      return server !== undefined;
    },
    publish(topic, payload, qos = 1) {
      return new Promise<void>((resolve, reject) => {
        aedes.publish(
          {
            cmd: 'publish',
            topic,
            payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
            qos,
            retain: false,
            dup: false,
          },
          (err) => (err ? reject(err) : resolve()),
        );
      });
    },
    onClientPublish(listener) {
      const onPublish = (packet: AedesPublishPacket, client: Client | null) => {
        // client is null for the broker's own publishes (our replies and notifications, $SYS).
        if (!client) return;
        const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
        listener({ topic: packet.topic, payload, clientId: client.id });
      };
      aedes.on('publish', onPublish);
      return () => {
        aedes.off('publish', onPublish);
      };
    },
    stop: stopListening,
    start: listen,
    async close() {
      if (closed) return;
      await stopListening();
      closed = true;
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}
