// The Greengrass IPC backend: when ggjobs runs as a Greengrass component, MQTT goes through the
// nucleus (SubscribeToIoTCore streams, PublishToIoTCore) over its IPC socket, using the device SDK's
// greengrasscoreipc client. The nucleus owns the IoT Core connection and its credentials; this class
// owns the IPC connection: it reconnects with backoff and opens every subscription stream again
// before it reports `connected`, exactly like the MQTT backends do with broker subscriptions.
// The device SDK is loaded on first use (see src/greengrass/device-sdk.ts), not when this is imported.
import type { eventstream_rpc, greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { TransportConnectError, TransportOfflineError } from '../errors.js';
import { reconnectDelayMs } from '../greengrass/backoff.js';
import { loadDeviceSdk } from '../greengrass/device-sdk.js';
import {
  createGreengrassIpcConnection,
  type GreengrassIpcConnection,
  type GreengrassIpcConnectionOptions,
} from '../greengrass/ipc-connection.js';
import { toGgjobsError } from '../greengrass/rpc-errors.js';
import type { Logger } from '../log.js';
import { TransportEventSource } from './event-source.js';
import { deliverMessage } from './subscriptions.js';
import type { MessageHandler, QoS, Transport } from './types.js';

export { type ComponentState, reportComponentState } from '../greengrass/component-state.js';

export interface GreengrassIpcTransportOptions extends Omit<GreengrassIpcConnectionOptions, 'log'> {
  log: Logger;
  /** Share an existing nucleus connection (then close() leaves it open); by default the transport opens its own. */
  connection?: GreengrassIpcConnection;
}

type IoTCoreSubscription = eventstream_rpc.StreamingOperation<
  greengrasscoreipc.model.SubscribeToIoTCoreRequest,
  greengrasscoreipc.model.SubscribeToIoTCoreResponse,
  void,
  greengrasscoreipc.model.IoTCoreMessage
>;

/** One topic filter: its handlers, and the stream that currently feeds them (if any). */
interface SubscriptionEntry {
  readonly topicFilter: string;
  readonly handlers: Set<MessageHandler>;
  stream: IoTCoreSubscription | undefined;
  /** The activation in progress, shared by concurrent subscribe() calls for the same filter. */
  activating: Promise<void> | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  retryAttempt: number;
}

function toBuffer(payload: unknown): Buffer {
  if (payload === undefined || payload === null) return Buffer.alloc(0);
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (ArrayBuffer.isView(payload)) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (payload instanceof ArrayBuffer) return Buffer.from(payload);
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

export class GreengrassIpcTransport extends TransportEventSource implements Transport {
  readonly kind = 'greengrass-ipc' as const;
  /** The nucleus connection, for the configuration source and the state reporter to share. */
  readonly connection: GreengrassIpcConnection;
  private readonly subscriptions = new Map<string, SubscriptionEntry>();
  private readonly ownsConnection: boolean;
  private readonly log: Logger;
  private readonly retryPolicy: { minMs: number; maxMs: number };
  private isConnected = false;
  private everConnected = false;
  private closed = false;
  private connectPromise: Promise<void> | undefined;
  /** Fails a connect() still waiting when close() is called. */
  private abortConnect: ((err: Error) => void) | undefined;
  /** Bumped on every (re)connect so a slow restore for an older connection does not announce itself. */
  private generation = 0;

  constructor(options: GreengrassIpcTransportOptions) {
    super();
    this.log = options.log;
    this.ownsConnection = !options.connection;
    this.connection = options.connection ?? createGreengrassIpcConnection(options);
    this.retryPolicy = { minMs: options.reconnectMinMs ?? 250, maxMs: options.reconnectMaxMs ?? 30_000 };
    this.connection.on('connected', this.onConnectionUp);
    this.connection.on('disconnected', this.onConnectionDown);
  }

  get connected(): boolean {
    return this.isConnected;
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new TransportConnectError('transport is closed'));
    this.connectPromise ??= (async () => {
      // A shared connection may have come up (and this transport announced itself) already.
      if (this.isConnected) return;
      const announced = new Promise<void>((resolve, reject) => {
        this.events.once('connected', () => resolve());
        this.abortConnect = reject;
      });
      announced.catch(() => undefined); // may be aborted before it is awaited below
      if (!this.connection.connected) await this.connection.connect();
      else if (this.generation === 0) this.onConnectionUp({ reconnect: false }); // connected before we listened
      await announced;
    })().finally(() => {
      this.abortConnect = undefined;
    });
    return this.connectPromise;
  }

  async subscribe(topicFilter: string, handler: MessageHandler): Promise<void> {
    let entry = this.subscriptions.get(topicFilter);
    if (!entry) {
      entry = {
        topicFilter,
        handlers: new Set(),
        stream: undefined,
        activating: undefined,
        retryTimer: undefined,
        retryAttempt: 0,
      };
      this.subscriptions.set(topicFilter, entry);
    }
    entry.handlers.add(handler);
    // Offline: remembered, and opened before the next `connected` event.
    if (!this.connection.connected || this.closed) return;
    if (entry.stream) return;
    try {
      await this.activate(entry);
    } catch (err) {
      // Refused (e.g. UnauthorizedError from the recipe's accessControl): not remembered. Lost
      // connection: remembered, and opened again on reconnect.
      if (!(err instanceof TransportOfflineError)) {
        entry.handlers.delete(handler);
        if (entry.handlers.size === 0) this.forget(entry);
      }
      throw err;
    }
  }

  async publish(topic: string, payload: string | Uint8Array, qos: QoS = 1): Promise<void> {
    const { greengrasscoreipc } = await loadDeviceSdk();
    const client = this.connection.client(); // TransportOfflineError while the nucleus is away
    try {
      await client.publishToIoTCore({
        topicName: topic,
        payload,
        qos: qos === 0 ? greengrasscoreipc.model.QOS.AT_MOST_ONCE : greengrasscoreipc.model.QOS.AT_LEAST_ONCE,
      });
    } catch (err) {
      throw toGgjobsError(err, `PublishToIoTCore on ${topic}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abortConnect?.(new TransportConnectError('transport closed while connecting'));
    this.connection.off('connected', this.onConnectionUp);
    this.connection.off('disconnected', this.onConnectionDown);
    const streams: IoTCoreSubscription[] = [];
    for (const entry of this.subscriptions.values()) {
      clearTimeout(entry.retryTimer);
      if (entry.stream) streams.push(entry.stream);
      entry.stream = undefined;
    }
    this.subscriptions.clear();
    // close() sends TerminateStream on each open stream, so the nucleus drops the subscriptions.
    await Promise.all(streams.map((s) => s.close().catch(() => undefined)));
    if (this.ownsConnection) await this.connection.close();
    if (this.isConnected) {
      this.isConnected = false;
      this.events.emit('disconnected', {});
    }
  }

  private readonly onConnectionUp = ({ reconnect }: { reconnect: boolean }): void => {
    if (this.closed) return;
    const generation = ++this.generation;
    void this.restoreSubscriptions().then(() => {
      if (generation !== this.generation || this.closed || !this.connection.connected) return;
      this.isConnected = true;
      const isReconnect = reconnect || this.everConnected;
      this.everConnected = true;
      this.events.emit('connected', { reconnect: isReconnect });
    });
  };

  private readonly onConnectionDown = ({ error }: { error?: Error }): void => {
    this.generation++;
    // The streams died with the connection; the SDK closes them. They are opened again on reconnect.
    for (const entry of this.subscriptions.values()) {
      clearTimeout(entry.retryTimer);
      entry.stream = undefined;
      entry.activating = undefined;
    }
    if (this.isConnected) {
      this.isConnected = false;
      this.events.emit('disconnected', { error });
    }
  };

  /** Opens every remembered subscription; one that fails is retried on its own, the rest go ahead. */
  private async restoreSubscriptions(): Promise<void> {
    await Promise.all(
      [...this.subscriptions.values()].map((entry) =>
        this.activate(entry).catch((err: Error) => {
          this.log.error(
            { topicFilter: entry.topicFilter, err: err.message },
            'greengrass-ipc: subscribe failed',
          );
          this.scheduleRetry(entry);
        }),
      ),
    );
  }

  private activate(entry: SubscriptionEntry): Promise<void> {
    if (!entry.activating) {
      const activating: Promise<void> = this.openStream(entry).finally(() => {
        // A reconnect may have started a newer activation meanwhile; leave that one in place.
        if (entry.activating === activating) entry.activating = undefined;
      });
      entry.activating = activating;
    }
    return entry.activating;
  }

  private async openStream(entry: SubscriptionEntry): Promise<void> {
    if (entry.stream) return;
    const { greengrasscoreipc } = await loadDeviceSdk();
    let stream: IoTCoreSubscription;
    try {
      stream = this.connection.client().subscribeToIoTCore({
        topicName: entry.topicFilter,
        qos: greengrasscoreipc.model.QOS.AT_LEAST_ONCE,
      });
    } catch (err) {
      throw toGgjobsError(err, `SubscribeToIoTCore on ${entry.topicFilter}`);
    }
    stream.on('message', (event) => this.dispatch(entry, event));
    stream.on('streamError', (err) => {
      this.log.warn(
        { topicFilter: entry.topicFilter, err: err.message },
        'greengrass-ipc: bad message on stream',
      );
    });
    stream.on('ended', () => this.onStreamEnded(entry, stream));
    try {
      await stream.activate();
    } catch (err) {
      await stream.close().catch(() => undefined);
      throw toGgjobsError(err, `SubscribeToIoTCore on ${entry.topicFilter}`);
    }
    if (this.closed || this.subscriptions.get(entry.topicFilter) !== entry) {
      await stream.close().catch(() => undefined);
      return;
    }
    entry.stream = stream;
    entry.retryAttempt = 0;
  }

  private dispatch(entry: SubscriptionEntry, event: greengrasscoreipc.model.IoTCoreMessage): void {
    const message = event.message;
    if (!message?.topicName) return;
    const topic = message.topicName;
    deliverMessage(entry.handlers, topic, toBuffer(message.payload), (err) =>
      this.log.error({ topic, err: (err as Error).message }, 'greengrass-ipc: handler threw'),
    );
  }

  /** The nucleus ended a stream while the connection is up (e.g. a new deployment): open it again. */
  private onStreamEnded(entry: SubscriptionEntry, stream: IoTCoreSubscription): void {
    if (entry.stream !== stream) return; // closed by us, or superseded after a reconnect
    entry.stream = undefined;
    if (this.closed || !this.connection.connected) return;
    this.log.warn({ topicFilter: entry.topicFilter }, 'greengrass-ipc: subscription stream ended; reopening');
    this.scheduleRetry(entry);
  }

  private scheduleRetry(entry: SubscriptionEntry): void {
    if (this.closed || entry.retryTimer) return;
    entry.retryAttempt += 1;
    const delay = reconnectDelayMs(entry.retryAttempt, this.retryPolicy, Math.random());
    entry.retryTimer = setTimeout(() => {
      entry.retryTimer = undefined;
      if (this.closed || !this.connection.connected || this.subscriptions.get(entry.topicFilter) !== entry)
        return;
      this.activate(entry).catch((err: Error) => {
        this.log.error(
          { topicFilter: entry.topicFilter, err: err.message },
          'greengrass-ipc: subscribe failed',
        );
        this.scheduleRetry(entry);
      });
    }, delay);
  }

  private forget(entry: SubscriptionEntry): void {
    clearTimeout(entry.retryTimer);
    if (this.subscriptions.get(entry.topicFilter) === entry) this.subscriptions.delete(entry.topicFilter);
  }
}

export function createGreengrassIpcTransport(options: GreengrassIpcTransportOptions): GreengrassIpcTransport {
  return new GreengrassIpcTransport(options);
}
