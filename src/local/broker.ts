// The local stack's MQTT broker: aedes (MQTT 3.1.1, and MQTT 5 through mqtt5-adapter.ts) on a plain TCP net.Server on loopback and,
// optionally, on a TLS server that requires a client certificate from the stack's CA (like AWS IoT
// Core on 8883, or on 443 with ALPN `x-amzn-mqtt-ca`).
// Tests need to simulate a broker outage, so the listeners can be stopped (every client socket is
// destroyed, the way a dropped network looks to a device) and started again on the same ports while
// aedes itself, and the session state it keeps, stays alive.
import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import type { Logger } from '../log.js';
import { acceptMqttConnection } from './mqtt5-adapter.js';

/** ALPN protocols the TLS listener accepts: AWS IoT's for MQTT on 443, and plain "mqtt". */
export const MQTT_ALPN_PROTOCOLS = ['x-amzn-mqtt-ca', 'mqtt'];

export interface BrokerTlsOptions {
  /** 0 = any free port (the port chosen is kept across stop/start). */
  port: number;
  /** PEM: the broker's certificate and key, and the CA client certificates must be signed by. */
  cert: string;
  key: string;
  ca: string;
}

export interface BrokerOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 1883; 0 = any free port (the port chosen is kept across stop/start). */
  port?: number;
  /** Also listen for MQTT over TLS with client certificates. */
  tls?: BrokerTlsOptions;
  logger?: Logger;
}

/** A PUBLISH received from a connected client (never one of the broker's own publishes). */
export interface ClientPublish {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  clientId: string;
  /**
   * Sends a message to the client that published this one, and to no one else, whether or not it
   * subscribed (how AWS IoT delivers Jobs replies). At most QoS 1, never retained.
   */
  replyToSender(topic: string, payload: string | Buffer, qos: 0 | 1): Promise<void>;
}

export interface LocalBroker {
  readonly host: string;
  /** The port actually listened on. */
  readonly port: number;
  /** mqtt://HOST:PORT */
  readonly url: string;
  /** The TLS port actually listened on (undefined without `tls`). */
  readonly tlsPort: number | undefined;
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
  let servers: net.Server[] = [];
  let port = options.port ?? 1883;
  let tlsPort = options.tls?.port;
  let closed = false;

  aedes.on('clientError', (client: Client, err: Error) => {
    logger?.debug({ clientId: client.id, err: err.message }, 'mqtt client error');
  });
  aedes.on('connectionError', (_client: Client, err: Error) => {
    logger?.debug({ err: err.message }, 'mqtt connection error');
  });

  function accept(socket: net.Socket): void {
    sockets.add(socket);
    // MQTT request/response is many small writes: without this, Nagle's algorithm and delayed ACKs
    // add ~40 ms to every round trip on loopback (AWS IoT's brokers do not behave like that).
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    // A reset connection must never become an uncaught exception in the stack's process.
    socket.on('error', () => socket.destroy());
    // MQTT 3.1.1 goes to aedes as it is; MQTT 5 (AWS IoT Core speaks both) through a translation.
    acceptMqttConnection(socket, (stream) => aedes.handle(stream as net.Socket));
  }

  function createTlsServer(config: BrokerTlsOptions): tls.Server {
    const srv = tls.createServer(
      {
        cert: config.cert,
        key: config.key,
        ca: config.ca,
        // mTLS as on AWS IoT Core: no certificate, or one the CA did not sign, ends the handshake.
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        ALPNProtocols: MQTT_ALPN_PROTOCOLS,
      },
      accept,
    );
    // Raw TCP sockets are tracked too, so stop() also drops connections still in their handshake.
    srv.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    });
    srv.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
      logger?.debug({ err: err.message, remote: socket.remoteAddress }, 'mqtts handshake refused');
    });
    return srv;
  }

  async function listenOn(srv: net.Server, onPort: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      srv.once('error', onError);
      srv.listen(onPort, host, () => {
        srv.off('error', onError);
        resolve();
      });
    });
    srv.on('error', (err) => logger?.warn({ err: err.message }, 'mqtt listener error'));
    const address = srv.address();
    return address && typeof address === 'object' ? address.port : onPort;
  }

  async function listen(): Promise<void> {
    if (closed) throw new Error('the broker is closed');
    if (servers.length > 0) return;
    const plain = net.createServer(accept);
    try {
      port = await listenOn(plain, port);
      servers = [plain];
      if (options.tls) {
        const secure = createTlsServer(options.tls);
        tlsPort = await listenOn(secure, tlsPort ?? options.tls.port);
        servers.push(secure);
      }
    } catch (err) {
      await stopListening();
      throw err;
    }
    logger?.debug({ host, port, tlsPort }, 'mqtt broker listening');
  }

  async function stopListening(): Promise<void> {
    const stopping = servers;
    servers = [];
    const closedPromises = stopping.map(
      (srv) => new Promise<void>((resolve) => (srv.listening ? srv.close(() => resolve()) : resolve())),
    );
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await Promise.all(closedPromises);
    if (stopping.length > 0) logger?.debug({ host, port, tlsPort }, 'mqtt broker stopped');
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
    get tlsPort() {
      return options.tls ? tlsPort : undefined;
    },
    get listening() {
      return servers.length > 0;
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
        listener({
          topic: packet.topic,
          payload,
          qos: packet.qos,
          clientId: client.id,
          replyToSender: (topic, body, qos) =>
            new Promise<void>((resolve, reject) => {
              // Written to this client's connection only: the broker's subscriptions are bypassed.
              client.publish(
                {
                  cmd: 'publish',
                  topic,
                  payload: typeof body === 'string' ? Buffer.from(body) : body,
                  qos,
                  retain: false,
                  dup: false,
                },
                (err?: Error | null) => (err ? reject(err) : resolve()),
              );
            }),
        });
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
