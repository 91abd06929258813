// The mqtt.js backend: any MQTT 3.1.1 broker (the local stack's aedes, Mosquitto, AWS IoT Core with a
// client certificate). It owns reconnection, so the jobs half only sees `connected`/`disconnected`.
//
// Session choice: clean sessions (clean = true). The Jobs notifications are only hints that the agent
// follows up with a describe, and the agent describes after every reconnect anyway, so nothing needs to
// be queued by the broker while offline; a persistent session would instead replay stale notifications
// and depends on broker-side expiry (AWS IoT drops it after an hour by default). The price is that every
// subscription is made again on every connection, which this class does before it reports `connected`.
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { doublingDelay } from '../backoff.js';
import type { TransportConfig } from '../config/schema.js';
import { TransportConnectError, TransportOfflineError } from '../errors.js';
import type { Logger } from '../log.js';
import { TransportEventSource } from './event-source.js';
import { SubscriptionRegistry } from './subscriptions.js';
import type { MessageHandler, QoS, Transport } from './types.js';
import { redactUrl } from '../redact-url.js';

export { topicMatches } from './subscriptions.js';

export type MqttTransportConfig = Extract<TransportConfig, { kind: 'mqtt' }>;

export interface MqttTransportOptions {
  thingName: string;
  log: Logger;
}

/** CONNACK return codes (3.1.1) and reason codes (5) that no amount of retrying will fix. */
const FATAL_CONNACK_CODES = new Set([1, 2, 4, 5, 0x84, 0x85, 0x86, 0x87, 0x8c]);
/** TLS verification failures: a configuration problem (caFile, url host), not a network one. */
const FATAL_TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function isFatal(code: unknown): boolean {
  return typeof code === 'number'
    ? FATAL_CONNACK_CODES.has(code)
    : typeof code === 'string' && FATAL_TLS_CODES.has(code);
}

/** Delay before reconnect attempt `attempt` (1-based): min, 2*min, 4*min, ... capped at max. */
export function reconnectDelay(attempt: number, minMs: number, maxMs: number): number {
  // Inverted bounds: the minimum wins (reconnects are never faster than configured).
  return doublingDelay(attempt, minMs, Math.max(minMs, maxMs));
}

function readTlsFile(field: string, path: string | undefined): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TransportConnectError(`transport.${field}: cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

export class MqttTransport extends TransportEventSource implements Transport {
  readonly kind = 'mqtt' as const;
  private readonly subscriptions = new SubscriptionRegistry((topic, err) =>
    this.options.log.error({ topic, err: (err as Error).message }, 'mqtt: message handler threw'),
  );
  private readonly inflight = new Set<(err: Error) => void>();
  private client: MqttClient | undefined;
  private connectPromise: Promise<void> | undefined;
  private rejectConnect: ((err: Error) => void) | undefined;
  private isConnected = false;
  private everConnected = false;
  private closed = false;
  private failedAttempts = 0;

  constructor(
    private readonly config: MqttTransportConfig,
    private readonly options: MqttTransportOptions,
  ) {
    super();
  }

  get connected(): boolean {
    return this.isConnected;
  }

  get clientId(): string {
    return this.config.clientId ?? `ggjobs-${this.options.thingName}`;
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new TransportConnectError('transport is closed'));
    this.connectPromise ??= new Promise<void>((resolve, reject) => {
      this.rejectConnect = reject;
      const c = this.config;
      const clientOptions: IClientOptions = {
        clientId: this.clientId,
        username: c.username,
        password: c.password,
        ca: readTlsFile('caFile', c.caFile),
        cert: readTlsFile('certFile', c.certFile),
        key: readTlsFile('keyFile', c.keyFile),
        rejectUnauthorized: c.rejectUnauthorized,
        keepalive: c.keepaliveSeconds,
        protocolVersion: 4,
        clean: true,
        // Subscriptions are restored by this class (then `connected` is emitted), not by mqtt.js.
        resubscribe: false,
        reconnectPeriod: c.reconnectMinMs,
        connectTimeout: 30_000,
        manualConnect: true,
      };
      const client = mqtt.connect(c.url, clientOptions);
      this.client = client;
      client.on('connect', () => {
        // Small request/response packets: without TCP_NODELAY, Nagle's algorithm and delayed ACKs
        // can hold a request back for tens of milliseconds.
        (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
        this.onConnect(client).then(resolve, (err: Error) => {
          this.options.log.warn({ err: err.message }, 'mqtt: restoring subscriptions failed; reconnecting');
          client.stream?.destroy();
        });
      });
      client.on('close', () => this.onClose(client));
      client.on('message', (topic, payload) => this.subscriptions.dispatch(topic, payload));
      client.on('error', (err: Error & { code?: number | string }) => {
        const fatal = isFatal(err.code);
        this.options.log.warn(
          { err: err.message, code: err.code, url: redactUrl(c.url) },
          'mqtt: connection error',
        );
        if (fatal && !this.everConnected) {
          // Bad credentials, client id or certificates: fail the start instead of retrying forever.
          client.end(true);
          this.closed = true;
          reject(
            new TransportConnectError(
              `MQTT broker ${redactUrl(c.url)} refused the connection: ${err.message}`,
            ),
          );
        }
      });
      client.connect();
    });
    return this.connectPromise;
  }

  async subscribe(topicFilter: string, handler: MessageHandler): Promise<void> {
    const isNew = this.subscriptions.add(topicFilter, handler);
    // Offline: remembered, and subscribed before the next `connected` event.
    if (!isNew || !this.client || !this.isConnected) return;
    await this.subscribeOnBroker(this.client, [topicFilter]);
  }

  publish(topic: string, payload: string | Uint8Array, qos: QoS = 1): Promise<void> {
    const client = this.client;
    if (!client || !this.isConnected) {
      return Promise.reject(new TransportOfflineError(`not connected: cannot publish to ${topic}`));
    }
    const message = typeof payload === 'string' ? payload : Buffer.from(payload);
    return new Promise<void>((resolve, reject) => {
      // A publish cut off by a disconnect rejects now; mqtt.js may still deliver it after reconnecting
      // (QoS 1 is at-least-once), which is why every Jobs request the agent sends is safe to repeat.
      const fail = (err: Error) => reject(err);
      this.inflight.add(fail);
      client.publish(topic, message, { qos }, (err) => {
        this.inflight.delete(fail);
        if (err)
          reject(new TransportOfflineError(`publish to ${topic} failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed && !this.client) return;
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (!this.everConnected)
      this.rejectConnect?.(new TransportConnectError('transport closed before it connected'));
    const wasConnected = this.isConnected;
    if (wasConnected) {
      const filters = this.subscriptions.filters();
      if (filters.length > 0) {
        await Promise.race([
          client.unsubscribeAsync(filters).catch(() => undefined),
          new Promise((r) => setTimeout(r, 2_000).unref()),
        ]);
      }
    }
    this.isConnected = false;
    await client.endAsync(!wasConnected).catch(() => undefined);
    this.failInflight(new TransportOfflineError('transport closed'));
    if (wasConnected) this.events.emit('disconnected', {});
  }

  private async onConnect(client: MqttClient): Promise<void> {
    const filters = this.subscriptions.filters();
    if (filters.length > 0) await this.subscribeOnBroker(client, filters);
    if (client !== this.client) return;
    this.failedAttempts = 0;
    client.options.reconnectPeriod = this.config.reconnectMinMs;
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.isConnected = true;
    this.options.log.info(
      { url: redactUrl(this.config.url), clientId: this.clientId, reconnect },
      'mqtt: connected',
    );
    this.events.emit('connected', { reconnect });
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return;
    // mqtt.js retries on a fixed period; it reads options.reconnectPeriod each time it arms the timer,
    // so doubling it here after each failure gives exponential backoff (its own handler ran first,
    // so this sets the delay before the attempt after next; the first retry waits reconnectMinMs).
    this.failedAttempts += 1;
    client.options.reconnectPeriod = reconnectDelay(
      this.failedAttempts + 1,
      this.config.reconnectMinMs,
      this.config.reconnectMaxMs,
    );
    this.failInflight(new TransportOfflineError('connection lost'));
    if (this.isConnected) {
      this.isConnected = false;
      this.options.log.warn({ url: redactUrl(this.config.url) }, 'mqtt: disconnected; reconnecting');
      this.events.emit('disconnected', {});
    }
  }

  private async subscribeOnBroker(client: MqttClient, filters: string[]): Promise<void> {
    // QoS 0: this client's session is clean, so a QoS 1 message the broker has not seen acknowledged
    // dies with the connection anyway (MQTT 3.1.1 redelivers only into a kept session); QoS 1 would
    // only add a PUBACK per received message. What a lost connection may have carried is recovered
    // by the describe the listener makes after every reconnect.
    const grants = await client.subscribeAsync(filters, { qos: 0 });
    for (const g of grants) {
      if (g.qos === 128) this.options.log.error({ topic: g.topic }, 'mqtt: broker refused subscription');
    }
  }

  private failInflight(err: Error): void {
    for (const fail of this.inflight) fail(err);
    this.inflight.clear();
  }
}
