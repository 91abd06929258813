// One authenticated connection to the Greengrass nucleus's IPC socket, kept alive: the device SDK's
// greengrasscoreipc client can connect only once, so every reconnect builds a new client. Users (the
// greengrass-ipc transport, the live configuration source, the state reporter) take `client()` when
// they need it and listen to `connected` to restore their streams after a reconnect.
// The device SDK is loaded by the first connection attempt (see device-sdk.ts).
import { EventEmitter } from 'node:events';
import type { greengrasscoreipc } from 'aws-iot-device-sdk-v2';
import { TransportConnectError, TransportOfflineError } from '../errors.js';
import type { Logger } from '../log.js';
import { reconnectDelayMs } from './backoff.js';
import { type DeviceSdk, loadDeviceSdk, loadedDeviceSdk } from './device-sdk.js';

export type IpcClient = greengrasscoreipc.Client;

export const SOCKET_PATH_ENV = 'AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT';
export const SVCUID_ENV = 'SVCUID';

export interface GreengrassIpcConnectionOptions {
  log: Logger;
  /** Default: $AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT. */
  socketPath?: string;
  /** Default: $SVCUID. */
  svcuid?: string;
  /** Reconnect backoff after the connection is lost (defaults 250 ms .. 30 s). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Bound on one connect + handshake (default 10 s). */
  connectTimeoutMs?: number;
  /** Where the defaults are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface IpcConnectionEvents {
  /** After every successful handshake; reconnect=false the first time. */
  connected: (event: { reconnect: boolean }) => void;
  disconnected: (event: { error?: Error }) => void;
}

export interface GreengrassIpcConnection {
  /** First connection; rejects with TransportConnectError (not retried: the nucleus starts us after it is up). */
  connect(): Promise<void>;
  readonly connected: boolean;
  /** The SDK client of the live connection; throws TransportOfflineError when there is none. */
  client(): IpcClient;
  on<E extends keyof IpcConnectionEvents>(event: E, listener: IpcConnectionEvents[E]): this;
  off<E extends keyof IpcConnectionEvents>(event: E, listener: IpcConnectionEvents[E]): this;
  /** Stops reconnecting and closes the client (its open streams are terminated). Idempotent. */
  close(): Promise<void>;
}

/** Socket path and SVCUID from the options or the environment; a clear error naming what is missing. */
export function resolveIpcEndpoint(
  options: Pick<GreengrassIpcConnectionOptions, 'socketPath' | 'svcuid' | 'env'>,
): {
  socketPath: string;
  svcuid: string;
} {
  const env = options.env ?? process.env;
  const socketPath = options.socketPath ?? env[SOCKET_PATH_ENV];
  const svcuid = options.svcuid ?? env[SVCUID_ENV];
  const missing = [!socketPath && SOCKET_PATH_ENV, !svcuid && SVCUID_ENV].filter(Boolean);
  if (!socketPath || !svcuid) {
    throw new TransportConnectError(
      `transport greengrass-ipc: ${missing.join(' and ')} not set; ggjobs must run as a Greengrass ` +
        'component for this transport (or use transport.kind mqtt / iot-core)',
    );
  }
  return { socketPath, svcuid };
}

function clientConfig({ io }: DeviceSdk, socketPath: string, svcuid: string) {
  return {
    hostName: socketPath,
    port: 0,
    socketOptions: new io.SocketOptions(io.SocketType.STREAM, io.SocketDomain.LOCAL),
    connectTransform: async (options: { message: { payload?: string } }) => {
      // The nucleus authenticates the component by this token, sent in the Connect payload.
      options.message.payload = JSON.stringify({ authToken: svcuid });
      return options.message;
    },
  } as unknown as Parameters<typeof greengrasscoreipc.createClient>[0];
}

function describeConnectFailure(err: unknown, socketPath: string): string {
  // RpcError keeps the CRT's reason (e.g. "socket file not found") in internalError.
  const inner = (err as { internalError?: unknown })?.internalError;
  const innerText = inner instanceof Error ? inner.message : typeof inner === 'string' ? inner : undefined;
  const detail = [(err as Error)?.message || String(err), innerText].filter(Boolean).join(': ');
  if (/invalid connack|connection closed/i.test(detail)) {
    return `the Greengrass nucleus at ${socketPath} refused the IPC connection (SVCUID not accepted): ${detail}`;
  }
  return `cannot connect to the Greengrass nucleus IPC socket ${socketPath}: ${detail}`;
}

class IpcConnection extends EventEmitter implements GreengrassIpcConnection {
  private current: IpcClient | undefined;
  private everConnected = false;
  private closed = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private firstConnect: Promise<void> | undefined;
  private readonly socketPath: string;
  private readonly svcuid: string;

  constructor(private readonly options: GreengrassIpcConnectionOptions) {
    super();
    ({ socketPath: this.socketPath, svcuid: this.svcuid } = resolveIpcEndpoint(options));
  }

  get connected(): boolean {
    return this.current !== undefined;
  }

  client(): IpcClient {
    if (!this.current) throw new TransportOfflineError('not connected to the Greengrass nucleus');
    return this.current;
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new TransportConnectError('Greengrass IPC connection is closed'));
    this.firstConnect ??= this.open().then(
      (client) => {
        if (!this.adopt(client))
          throw new TransportConnectError('Greengrass IPC connection closed while connecting');
      },
      (err: unknown) => {
        throw new TransportConnectError(describeConnectFailure(err, this.socketPath), { cause: err });
      },
    );
    return this.firstConnect;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.current;
    this.current = undefined;
    if (client) {
      await client.close().catch(() => undefined);
      this.emit('disconnected', {});
    }
  }

  /** One connect + handshake, bounded by connectTimeoutMs; the client is closed on failure. */
  private async open(): Promise<IpcClient> {
    const sdk = await loadDeviceSdk();
    const client = sdk.greengrasscoreipc.createClient(clientConfig(sdk, this.socketPath, this.svcuid));
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.connect(),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(
            () => reject(new Error('no ConnectAck from the nucleus in time')),
            this.options.connectTimeoutMs ?? 10_000,
          );
        }),
      ]);
      return client;
    } catch (err) {
      await client.close().catch(() => undefined);
      throw err;
    } finally {
      clearTimeout(timeout);
    }
  }

  /** Makes `client` the live one; false (and the client closed) when close() came first. */
  private adopt(client: IpcClient): boolean {
    if (this.closed) {
      void client.close().catch(() => undefined);
      return false;
    }
    this.current = client;
    this.attempt = 0;
    const reconnect = this.everConnected;
    this.everConnected = true;
    client.on('disconnection', (event) => this.onDisconnection(client, event?.reason));
    this.options.log.info(
      { socketPath: this.socketPath, reconnect },
      'greengrass-ipc: connected to the nucleus',
    );
    this.emit('connected', { reconnect });
    return true;
  }

  private onDisconnection(client: IpcClient, reason: Error | undefined): void {
    if (client !== this.current) return;
    this.current = undefined;
    void client.close().catch(() => undefined);
    if (this.closed) return;
    this.options.log.warn(
      { err: reason?.message },
      'greengrass-ipc: connection to the nucleus lost; reconnecting',
    );
    this.emit('disconnected', { error: reason });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.attempt += 1;
    const delay = reconnectDelayMs(
      this.attempt,
      { minMs: this.options.reconnectMinMs ?? 250, maxMs: this.options.reconnectMaxMs ?? 30_000 },
      Math.random(),
    );
    this.timer = setTimeout(() => {
      this.open().then(
        (client) => void this.adopt(client),
        (err: unknown) => {
          this.options.log.warn(
            { attempt: this.attempt, err: describeConnectFailure(err, this.socketPath) },
            'greengrass-ipc: reconnect failed',
          );
          this.scheduleReconnect();
        },
      );
    }, delay);
  }
}

export function createGreengrassIpcConnection(
  options: GreengrassIpcConnectionOptions,
): GreengrassIpcConnection {
  return new IpcConnection(options);
}

/** Anything an IPC operation can run on: an SDK client, a kept-alive connection, or a holder of one. */
export type IpcClientSource =
  IpcClient | GreengrassIpcConnection | { readonly connection: GreengrassIpcConnection };

/**
 * Whether `source` is an SDK client. While the SDK is not loaded nothing can be one; the async entry
 * points that accept an IpcClientSource load the SDK before they look.
 */
function isSdkClient(source: IpcClientSource): source is IpcClient {
  const sdk = loadedDeviceSdk();
  return sdk !== undefined && source instanceof sdk.greengrasscoreipc.Client;
}

/** The connection behind a source, when it has one (SDK clients do not reconnect). */
export function connectionOf(source: IpcClientSource): GreengrassIpcConnection | undefined {
  if (isSdkClient(source)) return undefined;
  if ('connection' in source) return source.connection;
  return source;
}

/** The SDK client to use right now; TransportOfflineError while a connection is down. */
export function clientOf(source: IpcClientSource): IpcClient {
  if (isSdkClient(source)) return source;
  return (connectionOf(source) as GreengrassIpcConnection).client();
}
