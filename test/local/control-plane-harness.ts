// Starts the local control plane on 127.0.0.1:0 and hands out a real IoTClient pointed at it.
import type { AddressInfo } from 'node:net';
import { IoTClient } from '@aws-sdk/client-iot';
import { expect } from 'vitest';
import { createControlPlaneServer } from '../../src/local/control-plane/server.js';
import { type RateLimit, RequestGate } from '../../src/local/request-gate.js';
import { type ExecutionChangedEvent, LocalStore } from '../../src/local/store.js';
import { silentLogger } from '../../src/log.js';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';
export const groupArn = (name: string): string => `arn:aws:iot:${REGION}:${ACCOUNT}:thinggroup/${name}`;
export const thingArn = (name: string): string => `arn:aws:iot:${REGION}:${ACCOUNT}:thing/${name}`;
export const jobArn = (id: string): string => `arn:aws:iot:${REGION}:${ACCOUNT}:job/${id}`;

export interface ControlPlaneHarness {
  iot: IoTClient;
  store: LocalStore;
  gate: RequestGate;
  endpoint: string;
  events: ExecutionChangedEvent[];
  close(): Promise<void>;
}

export async function startControlPlane(
  limits: Record<string, RateLimit> = {},
): Promise<ControlPlaneHarness> {
  const store = new LocalStore({ region: REGION, accountId: ACCOUNT });
  const gate = new RequestGate(limits);
  const events: ExecutionChangedEvent[] = [];
  store.on('execution-changed', (event) => events.push(event));
  const server = createControlPlaneServer({ store, gate, logger: silentLogger() });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // maxAttempts 1: the SDK's own retries would hide throttling and 5xx answers.
  const iot = new IoTClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return {
    iot,
    store,
    gate,
    endpoint,
    events,
    async close() {
      iot.destroy();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Awaits a call that must fail and checks the SDK exception's name (and message, when given). */
export async function expectAwsError(
  call: Promise<unknown>,
  name: string,
  message?: RegExp,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  const error = await call.then(
    () => {
      throw new Error(`expected ${name}, but the call succeeded`);
    },
    (err: unknown) => err as Error & { $metadata?: { httpStatusCode?: number } },
  );
  expect(error.name).toBe(name);
  if (message) expect(error.message).toMatch(message);
  return error;
}
