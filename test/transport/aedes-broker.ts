// A bare aedes broker for transport and jobs-client tests (no Jobs data plane): loopback, port 0,
// can be stopped and started again on the same port, optional username/password and TLS.
import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';

export interface TestBroker {
  url: string;
  port: number;
  aedes: Aedes;
  /** Every PUBLISH from a client. */
  published: Array<{ topic: string; payload: Buffer; clientId: string }>;
  /** Topics clients subscribed to, in order. */
  subscribed: string[];
  publish(topic: string, payload: string | Buffer): Promise<void>;
  /** Drops every client and stops listening (like a network outage). */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestBroker(
  options: { credentials?: { username: string; password: string }; tls?: { cert: Buffer; key: Buffer } } = {},
): Promise<TestBroker> {
  const aedes = await Aedes.createBroker({ heartbeatInterval: 3_600_000 });
  if (options.credentials) {
    const { username, password } = options.credentials;
    aedes.authenticate = (_client, user, pass, done) => {
      const ok = user === username && pass?.toString() === password;
      if (ok) done(null, true);
      else done(Object.assign(new Error('bad credentials'), { returnCode: 4 }) as never, false);
    };
  }
  const published: TestBroker['published'] = [];
  const subscribed: string[] = [];
  aedes.on('publish', (packet: AedesPublishPacket, client: Client | null) => {
    if (client)
      published.push({ topic: packet.topic, payload: Buffer.from(packet.payload), clientId: client.id });
  });
  aedes.on('subscribe', (subs) => {
    for (const s of subs) subscribed.push(s.topic);
  });
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const listen = async () => {
    server = options.tls
      ? tls.createServer({ cert: options.tls.cert, key: options.tls.key }, (s) => aedes.handle(s))
      : net.createServer((s) => aedes.handle(s));
    server.on(options.tls ? 'secureConnection' : 'connection', (s: net.Socket) => {
      s.setNoDelay(true); // request/response over loopback: no Nagle stalls
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
    port = (server.address() as net.AddressInfo).port;
  };
  await listen();
  const scheme = options.tls ? 'mqtts' : 'mqtt';
  const broker: TestBroker = {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    aedes,
    published,
    subscribed,
    publish: (topic, payload) =>
      new Promise<void>((resolve, reject) =>
        aedes.publish(
          { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false },
          (err) => (err ? reject(err) : resolve()),
        ),
      ),
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      const closed = new Promise<void>((r) => s.close(() => r()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    start: listen,
    async close() {
      await broker.stop();
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
  return broker;
}

export { waitFor } from '../support/wait-for.js';
