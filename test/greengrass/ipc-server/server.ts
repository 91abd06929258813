// A local stand-in for the Greengrass nucleus's IPC server, for tests only: eventstream RPC on a
// Unix socket, SVCUID handshake, the operations ggjobs uses, IoT Core bridged to an MQTT broker, and
// the component-update half of a deployment (runComponentUpdate).
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { type ConfigObject, changedKeyPaths, keyPathConcerns } from './configuration-store.js';
import { IpcConnection, type OpenStreamInfo } from './connection.js';
import { createMqttBridge } from './mqtt-bridge.js';
import type { AccessControl, ServerState } from './operation-context.js';

export interface IpcServerOptions {
  socketPath: string;
  /** The token a client must present in Connect (what the nucleus passes as $SVCUID). */
  svcuid: string;
  /** Broker that SubscribeToIoTCore / PublishToIoTCore are bridged to. */
  mqttUrl: string;
  componentName: string;
  configuration?: ConfigObject;
  /** When set, IoT Core topics outside these lists answer UnauthorizedError. */
  accessControl?: AccessControl;
}

export interface ConnectionInfo {
  id: number;
  accepted: boolean;
  openStreams: OpenStreamInfo[];
}

export interface IpcTestServer {
  readonly socketPath: string;
  close(): Promise<void>;
  /** Replaces the configuration and sends an update event per changed key to matching subscribers. */
  setConfiguration(configuration: ConfigObject): void;
  /** UpdateState history, oldest first. */
  states(): string[];
  connections(): ConnectionInfo[];
  /** Open streams over every connection. */
  openStreams(): Array<OpenStreamInfo & { connectionId: number }>;
  /** Drops every client connection abruptly (a nucleus restart, from the client's point of view). */
  dropConnections(): void;
  /** Ends every open stream of `operation` from the server side (TerminateStream); returns how many. */
  terminateStreams(operation: string): number;
  /** Request payloads received for an operation ('SubscribeToIoTCore', ...), oldest first. */
  requests(operation: string): unknown[];
  /**
   * A deployment that updates this component, as the nucleus runs it with NOTIFY_COMPONENTS: every
   * subscriber gets a preUpdateEvent; if one defers within `responseWindowMs`, the update waits the
   * largest recheckAfterMs and asks again (at most `maxRounds` times). Resolves once it may proceed,
   * with the deferrals it got; the caller then restarts the component and calls finishComponentUpdate.
   */
  runComponentUpdate(
    deploymentId: string,
    options?: { responseWindowMs?: number; maxRounds?: number },
  ): Promise<{ deferrals: number }>;
  /** Sends the postUpdateEvent of a deployment to every subscriber. */
  finishComponentUpdate(deploymentId: string): void;
}

export async function startIpcServer(options: IpcServerOptions): Promise<IpcTestServer> {
  const bridge = createMqttBridge(options.mqttUrl);
  const state: ServerState = {
    componentName: options.componentName,
    configuration: structuredClone(options.configuration ?? {}),
    bridge,
    accessControl: options.accessControl,
    states: [],
    configurationWatchers: new Set(),
    componentUpdateWatchers: new Set(),
    deferrals: [],
  };
  const connections = new Set<IpcConnection>();
  const requests: Array<{ operation: string; request: unknown }> = [];
  let nextConnectionId = 1;

  const server: Server = createServer((socket) => {
    const connection = new IpcConnection(nextConnectionId++, socket, {
      svcuid: options.svcuid,
      state,
      onRequest: (operation, request) => requests.push({ operation, request }),
      onClosed: (closed) => connections.delete(closed),
    });
    connections.add(connection);
  });

  // A socket file left by a crashed run would make listen() fail with EADDRINUSE.
  rmSync(options.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });

  let closing: Promise<void> | undefined;
  return {
    socketPath: options.socketPath,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...connections].map((c) => c.shutdown()));
        await closed;
        await bridge.close();
      })();
      return closing;
    },
    setConfiguration(configuration) {
      const before = state.configuration;
      state.configuration = structuredClone(configuration);
      const changed = changedKeyPaths(before, state.configuration);
      for (const watcher of [...state.configurationWatchers]) {
        for (const keyPath of changed) {
          if (keyPathConcerns(watcher.keyPath, keyPath)) watcher.notify(keyPath);
        }
      }
    },
    states: () => [...state.states],
    connections: () =>
      [...connections].map((c) => ({ id: c.id, accepted: c.accepted, openStreams: c.openStreams() })),
    openStreams: () =>
      [...connections].flatMap((c) => c.openStreams().map((s) => ({ ...s, connectionId: c.id }))),
    dropConnections() {
      for (const connection of connections) connection.drop();
    },
    terminateStreams: (operation) => [...connections].reduce((n, c) => n + c.terminateStreams(operation), 0),
    requests: (operation) => requests.filter((r) => r.operation === operation).map((r) => r.request),
    async runComponentUpdate(deploymentId, { responseWindowMs = 1_000, maxRounds = 100 } = {}) {
      let deferrals = 0;
      for (let round = 0; round < maxRounds; round++) {
        const before = state.deferrals.length;
        for (const watcher of [...state.componentUpdateWatchers]) watcher.preUpdate(deploymentId);
        await new Promise((resolve) => setTimeout(resolve, responseWindowMs));
        const answers = state.deferrals.slice(before).filter((d) => d.deploymentId === deploymentId);
        if (answers.length === 0) return { deferrals };
        deferrals += answers.length;
        const recheck = Math.max(...answers.map((d) => d.recheckAfterMs));
        await new Promise((resolve) => setTimeout(resolve, recheck));
      }
      throw new Error(`component update ${deploymentId} still deferred after ${maxRounds} rounds`);
    },
    finishComponentUpdate(deploymentId) {
      for (const watcher of [...state.componentUpdateWatchers]) watcher.postUpdate(deploymentId);
    },
  };
}
