// The live Greengrass component configuration: read once (GetConfiguration of our own component)
// and followed (SubscribeToConfigurationUpdate). Update events carry only the changed key path, so
// every change is answered with a fresh GetConfiguration. This module only fetches the raw object;
// merging and validation are src/config/load.ts's job (values come as strings, the schema takes them).
import type { eventstream_rpc, greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { GreengrassIpcError, TransportOfflineError } from '../errors.js';
import { reconnectDelayMs } from '../greengrass/backoff.js';
import { loadDeviceSdk } from '../greengrass/device-sdk.js';
import {
  clientOf,
  connectionOf,
  createGreengrassIpcConnection,
  type GreengrassIpcConnection,
  type IpcClient,
  type IpcClientSource,
} from '../greengrass/ipc-connection.js';
import { toGgjobsError } from '../greengrass/rpc-errors.js';
import type { Logger } from '../log.js';

export type GreengrassConfiguration = Record<string, unknown>;

export interface WatchGreengrassConfigurationOptions {
  /**
   * An SDK client, a nucleus connection, or the greengrass-ipc transport (anything with a
   * `connection`). Omitted: a connection is opened from $AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT
   * and $SVCUID (or socketPath/svcuid) and closed by close().
   */
  client?: IpcClientSource;
  socketPath?: string;
  svcuid?: string;
  log: Logger;
  /** Called with the whole new configuration after it changed; must not throw (errors are logged). */
  onChange(configuration: GreengrassConfiguration): void;
}

export interface GreengrassConfigurationWatch {
  /** The configuration when the watch started. */
  readonly initial: GreengrassConfiguration;
  /** Ends the update subscription (and the connection, when the watch opened it). Idempotent. */
  close(): Promise<void>;
}

type UpdateStream = eventstream_rpc.StreamingOperation<
  greengrasscoreipc.model.SubscribeToConfigurationUpdateRequest,
  greengrasscoreipc.model.SubscribeToConfigurationUpdateResponse,
  void,
  greengrasscoreipc.model.ConfigurationUpdateEvents
>;

function isPlainObject(value: unknown): value is GreengrassConfiguration {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** GetConfiguration of the whole configuration of the calling component. */
export async function readGreengrassConfiguration(client: IpcClient): Promise<GreengrassConfiguration> {
  let response: greengrasscoreipc.model.GetConfigurationResponse;
  try {
    response = await client.getConfiguration({ keyPath: [] });
  } catch (err) {
    throw toGgjobsError(err, 'GetConfiguration');
  }
  const value: unknown = response.value ?? {};
  if (!isPlainObject(value)) {
    throw new GreengrassIpcError(
      `GetConfiguration: expected the component configuration as an object, got ${typeof value}`,
    );
  }
  return value;
}

/** Stable JSON (sorted keys) so "changed" means a different value, not a different key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isPlainObject(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

class ConfigurationWatch implements GreengrassConfigurationWatch {
  initial: GreengrassConfiguration = {};
  private lastDelivered = '';
  private stream: UpdateStream | undefined;
  private closed = false;
  private reading = false;
  private readAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAttempt = 0;

  constructor(
    private readonly source: IpcClientSource,
    private readonly connection: GreengrassIpcConnection | undefined,
    private readonly ownsConnection: boolean,
    private readonly options: WatchGreengrassConfigurationOptions,
  ) {}

  async start(): Promise<void> {
    // connect() is idempotent: it opens the connection we own, or one shared but not yet up.
    await this.connection?.connect();
    // Subscribe first, then read: a change between the two is then never missed.
    await this.subscribe();
    this.initial = await readGreengrassConfiguration(clientOf(this.source));
    this.lastDelivered = canonical(this.initial);
    this.connection?.on('connected', this.onReconnected);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.connection?.off('connected', this.onReconnected);
    const stream = this.stream;
    this.stream = undefined;
    await stream?.close().catch(() => undefined);
    if (this.ownsConnection) await this.connection?.close();
  }

  private async subscribe(): Promise<void> {
    let stream: UpdateStream;
    try {
      stream = clientOf(this.source).subscribeToConfigurationUpdate({ keyPath: [] });
    } catch (err) {
      throw toGgjobsError(err, 'SubscribeToConfigurationUpdate');
    }
    stream.on('message', (event) => {
      this.options.log.debug(
        { keyPath: event.configurationUpdateEvent?.keyPath },
        'greengrass: component configuration changed',
      );
      this.refresh();
    });
    stream.on('streamError', (err) => {
      this.options.log.warn({ err: err.message }, 'greengrass: bad configuration update event');
    });
    stream.on('ended', () => this.onStreamEnded(stream));
    try {
      await stream.activate();
    } catch (err) {
      await stream.close().catch(() => undefined);
      throw toGgjobsError(err, 'SubscribeToConfigurationUpdate');
    }
    if (this.closed) {
      await stream.close().catch(() => undefined);
      return;
    }
    this.stream = stream;
    this.retryAttempt = 0;
  }

  /** Re-reads the configuration; events that arrive during a read cause exactly one more read. */
  private refresh(): void {
    if (this.closed) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    void (async () => {
      try {
        do {
          this.readAgain = false;
          const configuration = await readGreengrassConfiguration(clientOf(this.source));
          if (this.closed) return;
          const text = canonical(configuration);
          if (text === this.lastDelivered) continue;
          this.lastDelivered = text;
          try {
            this.options.onChange(configuration);
          } catch (err) {
            this.options.log.error(
              { err: (err as Error).message },
              'greengrass: configuration onChange threw',
            );
          }
        } while (this.readAgain && !this.closed);
      } catch (err) {
        // Offline: the read is repeated after the reconnect (onReconnected).
        if (!(err instanceof TransportOfflineError)) {
          this.options.log.error(
            { err: (err as Error).message },
            'greengrass: reading the configuration failed',
          );
        }
      } finally {
        this.reading = false;
      }
    })();
  }

  /** After a reconnect: subscribe again and re-read, since updates may have been missed meanwhile. */
  private readonly onReconnected = (): void => {
    if (this.closed) return;
    this.stream = undefined;
    this.resubscribe();
  };

  private onStreamEnded(stream: UpdateStream): void {
    if (this.stream !== stream || this.closed) return;
    this.stream = undefined;
    // Without a connection to follow (a bare SDK client) there is nothing to come back on.
    if (!this.connection) {
      this.options.log.warn('greengrass: configuration update stream ended; no longer following changes');
      return;
    }
    if (this.connection.connected) this.scheduleResubscribe();
  }

  private resubscribe(): void {
    this.subscribe().then(
      () => this.refresh(),
      (err: Error) => {
        this.options.log.warn(
          { err: err.message },
          'greengrass: SubscribeToConfigurationUpdate failed; retrying',
        );
        this.scheduleResubscribe();
      },
    );
  }

  private scheduleResubscribe(): void {
    if (this.closed || this.retryTimer) return;
    this.retryAttempt += 1;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        if (this.closed || !this.connection?.connected || this.stream) return;
        this.resubscribe();
      },
      reconnectDelayMs(this.retryAttempt, { minMs: 250, maxMs: 30_000 }, Math.random()),
    );
  }
}

/**
 * Reads the component configuration and follows its changes. Resolves once the first read is done
 * (rejects with GreengrassIpcError / TransportConnectError / TransportOfflineError when it cannot be).
 */
export async function watchGreengrassConfiguration(
  options: WatchGreengrassConfigurationOptions,
): Promise<GreengrassConfigurationWatch> {
  const ownsConnection = !options.client;
  const source: IpcClientSource =
    options.client ??
    createGreengrassIpcConnection({
      log: options.log,
      socketPath: options.socketPath,
      svcuid: options.svcuid,
    });
  await loadDeviceSdk(); // connectionOf tells an SDK client from a connection by its class
  const watch = new ConfigurationWatch(source, connectionOf(source), ownsConnection, options);
  try {
    await watch.start();
  } catch (err) {
    await watch.close();
    throw err;
  }
  return watch;
}
