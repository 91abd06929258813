// Shared fixtures for the Greengrass IPC tests: an aedes broker, the IPC test server on a socket in
// a fresh temp dir, and a bounded poll (no fixed sleeps).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import type { ConfigObject } from './ipc-server/configuration-store.js';
import { type IpcTestServer, startIpcServer } from './ipc-server/index.js';
import type { AccessControl } from './ipc-server/operation-context.js';
import { startTestBroker, type TestBroker } from './ipc-server/test-broker.js';

export { waitFor } from '../support/wait-for.js';

export interface IpcFixture {
  broker: TestBroker;
  server: IpcTestServer;
  socketPath: string;
  svcuid: string;
  /** A plain mqtt.js client on the broker (created on first use, closed by close()). */
  mqttClient(): Promise<MqttClient>;
  close(): Promise<void>;
}

export async function startIpcFixture(
  options: { configuration?: ConfigObject; accessControl?: AccessControl; componentName?: string } = {},
): Promise<IpcFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'ggjobs-ipc-'));
  const socketPath = join(dir, 'nucleus.sock');
  const svcuid = `svcuid-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const broker = await startTestBroker();
  const server = await startIpcServer({
    socketPath,
    svcuid,
    mqttUrl: broker.url,
    componentName: options.componentName ?? 'com.example.ggjobs',
    configuration: options.configuration,
    accessControl: options.accessControl,
  });
  const clients: MqttClient[] = [];
  return {
    broker,
    server,
    socketPath,
    svcuid,
    async mqttClient() {
      const client = await connectAsync(broker.url, { reconnectPeriod: 0 });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await server.close();
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
