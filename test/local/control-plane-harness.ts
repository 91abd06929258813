// Starts the local control plane on 127.0.0.1:0 and hands out a real IoTClient pointed at it.
import type { AddressInfo } from 'node:net';
import {
  AddThingToThingGroupCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { afterEach, beforeEach, expect } from 'vitest';
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

/**
 * A fresh control plane for every test of the calling file: started (then `seed` run on it) before
 * each test and closed after it. The returned object stays the same; its fields are the current test's.
 */
export function controlPlanePerTest(seed?: (cp: ControlPlaneHarness) => Promise<void>): ControlPlaneHarness {
  const cp = {} as ControlPlaneHarness;
  beforeEach(async () => {
    Object.assign(cp, await startControlPlane());
    await seed?.(cp);
  });
  afterEach(async () => {
    await cp.close();
  });
  return cp;
}

/** Creates thing group `group` and the things `things` in it. */
export async function groupWith(cp: ControlPlaneHarness, group: string, things: string[]): Promise<void> {
  await cp.iot.send(new CreateThingGroupCommand({ thingGroupName: group }));
  for (const thingName of things) {
    await cp.iot.send(new CreateThingCommand({ thingName }));
    await cp.iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName: group }));
  }
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
