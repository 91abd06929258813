// The AWS IoT Core backend: a direct MQTT 5 connection with the device's X.509 certificate (mTLS), made
// by the device SDK's mqtt5 client (aws-crt). For devices without Greengrass, or to bypass the nucleus.
// The CRT client owns reconnection (exponential backoff with jitter); this class maps its lifecycle
// events onto `connected`/`disconnected`, and restores subscriptions whenever a connection did not
// resume the previous session (the first connection, a broker that forgot it, an expired session).
//
// The SDK (and with it the ~6 MB native aws-crt binary) is imported on first connect(), so agents on
// the mqtt transport never load it (greengrass-ipc loads it too, for its IPC client, on first use).
import { accessSync, constants } from 'node:fs';
import type { mqtt5 as Mqtt5Namespace } from 'aws-iot-device-sdk-v2';
import type { TransportConfig } from '../config/schema.js';
import { TransportConnectError, TransportOfflineError } from '../errors.js';
import type { Logger } from '../log.js';
import { TransportEventSource } from './event-source.js';
import { SubscriptionRegistry } from './subscriptions.js';
import type { MessageHandler, QoS, Transport } from './types.js';
import { cjsExports } from '../cjs-interop.js';

export type IotCoreTransportConfig = Extract<TransportConfig, { kind: 'iot-core' }>;

export interface IotCoreTransportOptions {
  /** The default MQTT client id (AWS IoT policies usually require clientId == thing name). */
  thingName: string;
  log: Logger;
}

type Mqtt5Client = Mqtt5Namespace.Mqtt5Client;

/** The broker keeps our session (subscriptions) this long after a disconnect; IoT Core's default. */
const SESSION_EXPIRY_SECONDS = 3_600;
/** A QoS 1 publish or a SUBSCRIBE without an ack after this long fails (it is retried by the caller). */
const ACK_TIMEOUT_SECONDS = 30;
/** AWS IoT Core accepts at most 8 topic filters per SUBSCRIBE. */
const FILTERS_PER_SUBSCRIBE = 8;
/** Refusals of the certificate before the first connection, in a row, before connect() gives up. */
const REFUSALS_BEFORE_GIVING_UP = 3;
const CLOSE_TIMEOUT_MS = 5_000;

/** CONNACK reason codes that retrying cannot fix (identity or authorization). */
const REFUSING_CONNACK_CODES = new Set([1, 2, 4, 5, 0x84, 0x85, 0x86, 0x87, 0x8a, 0x8c]);
/** CRT errors of the TLS layer: with a reachable endpoint, the certificate, key or CA is wrong. */
const REFUSING_CRT_ERRORS = /^AWS_IO_TLS_|^AWS_IO_FILE_VALIDATION_FAILURE$|^AWS_ERROR_PEM_/;

export interface ConnectFailure {
  errorName?: string;
  connackReasonCode?: number;
}

/**
 * Whether a failed connection attempt means "this identity is refused" (give up before the first
 * connection) rather than "the endpoint is unreachable right now" (keep retrying). Pure.
 */
export function isRefusal(failure: ConnectFailure): boolean {
  if (failure.connackReasonCode !== undefined && REFUSING_CONNACK_CODES.has(failure.connackReasonCode)) {
    return true;
  }
  return failure.errorName !== undefined && REFUSING_CRT_ERRORS.test(failure.errorName);
}

/** Splits filters into SUBSCRIBE-sized batches. Pure. */
export function subscribeBatches(filters: readonly string[], size = FILTERS_PER_SUBSCRIBE): string[][] {
  const batches: string[][] = [];
  for (let i = 0; i < filters.length; i += size) batches.push(filters.slice(i, i + size));
  return batches;
}

function checkReadable(field: string, path: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    throw new TransportConnectError(`transport.${field}: cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

export class IotCoreTransport extends TransportEventSource implements Transport {
  readonly kind = 'iot-core' as const;
  private readonly subscriptions = new SubscriptionRegistry((topic, err) =>
    this.options.log.error({ topic, err: (err as Error).message }, 'iot-core: message handler threw'),
  );
  /** The filters the broker acknowledged in the current session. */
  private readonly brokerFilters = new Set<string>();
  private client: Mqtt5Client | undefined;
  private connectPromise: Promise<void> | undefined;
  private rejectConnect: ((err: Error) => void) | undefined;
  private isConnected = false;
  private everConnected = false;
  private closed = false;
  private refusals = 0;

  constructor(
    private readonly config: IotCoreTransportConfig,
    private readonly options: IotCoreTransportOptions,
  ) {
    super();
  }

  get connected(): boolean {
    return this.isConnected;
  }

  get clientId(): string {
    return this.config.clientId ?? this.options.thingName;
  }

  private get where(): string {
    return `${this.config.endpoint}:${this.config.port}`;
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new TransportConnectError('transport is closed'));
    this.connectPromise ??= new Promise<void>((resolve, reject) => {
      this.rejectConnect = reject;
      this.start(resolve).catch((err: unknown) => {
        this.closed = true;
        reject(
          err instanceof TransportConnectError
            ? err
            : new TransportConnectError(`AWS IoT Core client for ${this.where}: ${(err as Error).message}`, {
                cause: err,
              }),
        );
      });
    });
    return this.connectPromise;
  }

  async subscribe(topicFilter: string, handler: MessageHandler): Promise<void> {
    const isNew = this.subscriptions.add(topicFilter, handler);
    // Offline: remembered, and subscribed before the next `connected` event.
    if (!isNew || !this.client || !this.isConnected) return;
    await this.subscribeOnBroker(this.client, [topicFilter]);
  }

  async publish(topic: string, payload: string | Uint8Array, qos: QoS = 1): Promise<void> {
    const client = this.client;
    if (!client || !this.isConnected)
      throw new TransportOfflineError(`not connected: cannot publish to ${topic}`);
    let result: Awaited<ReturnType<Mqtt5Client['publish']>>;
    try {
      result = await client.publish({ topicName: topic, payload, qos });
    } catch (err) {
      // Cut off by a disconnect, or no PUBACK in time; the caller's outbox sends it again.
      throw new TransportOfflineError(`publish to ${topic} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (result && result.reasonCode >= 0x80) {
      throw new TransportOfflineError(
        `AWS IoT Core refused the publish to ${topic} (reason code ${result.reasonCode}${result.reasonString ? `: ${result.reasonString}` : ''})`,
      );
    }
  }

  async close(): Promise<void> {
    if (this.closed && !this.client) return;
    this.closed = true;
    if (!this.everConnected)
      this.rejectConnect?.(new TransportConnectError('transport closed before it connected'));
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    const wasConnected = this.isConnected;
    this.isConnected = false;
    // A DISCONNECT with session expiry 0 ends the session: the broker drops our subscriptions with it.
    const stopped = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      timer.unref();
      client.once('stopped', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    try {
      client.stop({ reasonCode: 0, sessionExpiryIntervalSeconds: 0 });
    } catch {
      client.stop();
    }
    await stopped;
    client.close();
    this.subscriptions.clear();
    this.brokerFilters.clear();
    if (wasConnected) this.events.emit('disconnected', {});
  }

  private async start(resolve: () => void): Promise<void> {
    const c = this.config;
    checkReadable('certFile', c.certFile);
    checkReadable('keyFile', c.keyFile);
    if (c.caFile) checkReadable('caFile', c.caFile);
    const sdk = cjsExports(await import('aws-iot-device-sdk-v2'));
    if (this.closed) return;
    const client = this.createClient(sdk);
    this.client = client;
    const log = this.options.log;
    client.on('attemptingConnect', () => log.debug({ endpoint: this.where }, 'iot-core: connecting'));
    client.on('connectionSuccess', (event) => {
      this.onConnectionSuccess(client, event.settings.rejoinedSession).then(resolve, (err: Error) => {
        log.warn({ err: err.message }, 'iot-core: restoring subscriptions failed');
      });
    });
    client.on('connectionFailure', (event) => {
      const failure = { errorName: event.error?.error_name, connackReasonCode: event.connack?.reasonCode };
      log.warn({ endpoint: this.where, ...failure }, 'iot-core: connection attempt failed');
      this.onConnectionFailure(failure);
    });
    client.on('disconnection', (event) => this.onDisconnection(client, event.error?.error_name));
    client.on('messageReceived', (event) => {
      const { topicName, payload } = event.message;
      const body = payload === undefined ? Buffer.alloc(0) : Buffer.from(payload as ArrayBuffer);
      this.subscriptions.dispatch(topicName, body);
    });
    client.start();
  }

  private createClient({ iot, mqtt5 }: typeof import('aws-iot-device-sdk-v2')): Mqtt5Client {
    const c = this.config;
    try {
      const builder = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromPath(
        c.endpoint,
        c.certFile,
        c.keyFile,
      );
      if (c.caFile) builder.withCertificateAuthorityFromPath(undefined, c.caFile);
      builder
        .withPort(c.port)
        .withConnectProperties({
          clientId: this.clientId,
          keepAliveIntervalSeconds: c.keepaliveSeconds,
          sessionExpiryIntervalSeconds: SESSION_EXPIRY_SECONDS,
        })
        // Clean on the first connection (nothing stale from a previous run), resumed after that.
        .withSessionBehavior(mqtt5.ClientSessionBehavior.RejoinPostSuccess)
        .withOfflineQueueBehavior(mqtt5.ClientOperationQueueBehavior.FailAllOnDisconnect)
        .withRetryJitterMode(mqtt5.RetryJitterType.Full)
        .withMinReconnectDelayMs(c.reconnectMinMs)
        .withMaxReconnectDelayMs(Math.max(c.reconnectMinMs, c.reconnectMaxMs))
        .withAckTimeoutSeconds(ACK_TIMEOUT_SECONDS);
      return new mqtt5.Mqtt5Client(builder.build());
    } catch (err) {
      // The SDK only says "invalid argument" for a file that is not a PEM certificate / key.
      const files = [
        `certFile ${c.certFile}`,
        `keyFile ${c.keyFile}`,
        ...(c.caFile ? [`caFile ${c.caFile}`] : []),
      ];
      throw new TransportConnectError(
        `transport: the device SDK cannot use ${files.join(', ')} (PEM certificate, its private key and CA ` +
          `expected): ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  private async onConnectionSuccess(client: Mqtt5Client, rejoinedSession: boolean): Promise<void> {
    // A resumed session still holds every filter the broker acknowledged; any other is sent now.
    if (!rejoinedSession) this.brokerFilters.clear();
    const filters = this.subscriptions.filters().filter((f) => !this.brokerFilters.has(f));
    if (filters.length > 0) await this.subscribeOnBroker(client, filters);
    if (client !== this.client) return;
    this.refusals = 0;
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.isConnected = true;
    this.options.log.info(
      { endpoint: this.where, clientId: this.clientId, reconnect, rejoinedSession },
      'iot-core: connected',
    );
    this.events.emit('connected', { reconnect });
  }

  private onConnectionFailure(failure: ConnectFailure): void {
    if (this.everConnected || !isRefusal(failure)) return;
    this.refusals += 1;
    if (this.refusals < REFUSALS_BEFORE_GIVING_UP) return;
    const reason =
      failure.connackReasonCode !== undefined
        ? `CONNACK reason code ${failure.connackReasonCode}`
        : failure.errorName;
    this.rejectConnect?.(
      new TransportConnectError(
        `AWS IoT Core at ${this.where} refused the connection (${reason}): check that transport.certFile and ` +
          'transport.keyFile are an active certificate of this account and Region with a policy allowing ' +
          `iot:Connect as client id ${this.clientId}, and that transport.caFile is the endpoint's CA`,
      ),
    );
    void this.close();
  }

  private onDisconnection(client: Mqtt5Client, errorName: string | undefined): void {
    if (client !== this.client || !this.isConnected) return;
    this.isConnected = false;
    this.options.log.warn({ endpoint: this.where, error: errorName }, 'iot-core: disconnected; reconnecting');
    this.events.emit('disconnected', { error: new TransportOfflineError(`connection lost (${errorName})`) });
  }

  private async subscribeOnBroker(client: Mqtt5Client, filters: string[]): Promise<void> {
    for (const batch of subscribeBatches(filters)) {
      const suback = await client.subscribe({
        subscriptions: batch.map((topicFilter) => ({ topicFilter, qos: 1 })),
      });
      suback.reasonCodes.forEach((code, i) => {
        const topic = batch[i]!;
        if (code < 0x80) this.brokerFilters.add(topic);
        else this.options.log.error({ topic, reasonCode: code }, 'iot-core: subscription refused');
      });
    }
  }
}

export function createIotCoreTransport(
  config: IotCoreTransportConfig,
  opts: IotCoreTransportOptions,
): IotCoreTransport {
  return new IotCoreTransport(config, opts);
}
