// The agent's listen-and-run half as a Greengrass component would run it: the Jobs MQTT traffic goes
// through the IPC test server (real device SDK IPC client) to the local AWS IoT stack's broker, and
// the execution's final status is read back from the control plane with the real AWS SDK.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeJobExecutionCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { type Listener, startListener } from '../../src/jobs/listener.js';
import { type LocalStack, startLocalStack } from '../../src/local/index.js';
import { silentLogger } from '../../src/log.js';
import type { JobContext, RunJob } from '../../src/run/types.js';
import { createGreengrassIpcTransport, reportComponentState } from '../../src/transport/greengrass-ipc.js';
import { waitFor } from './helpers.js';
import { type IpcTestServer, startIpcServer } from './ipc-server/index.js';

const log = silentLogger();
const NAMESPACE = 'ggjobs';
const THING = 'gg-core-1';
const JOB_ID = 'fleet-maintenance';

/** A thing in a group, and a CONTINUOUS namespaced job on the group: one QUEUED execution for the thing. */
async function createQueuedJob(iot: IoTClient, document: unknown): Promise<void> {
  await iot.send(new CreateThingCommand({ thingName: THING }));
  const group = await iot.send(new CreateThingGroupCommand({ thingGroupName: 'gg-cores' }));
  await iot.send(new AddThingToThingGroupCommand({ thingName: THING, thingGroupName: 'gg-cores' }));
  await iot.send(
    new CreateJobCommand({
      jobId: JOB_ID,
      targets: [group.thingGroupArn as string],
      targetSelection: 'CONTINUOUS',
      document: JSON.stringify(document),
      namespaceId: NAMESPACE,
    }),
  );
}

describe('listener over Greengrass IPC, end to end', () => {
  let stack: LocalStack;
  let server: IpcTestServer;
  let iot: IoTClient;
  let dir: string;
  let listener: Listener | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ggjobs-gg-e2e-'));
    stack = await startLocalStack({ mqttPort: 0, httpPort: 0 });
    server = await startIpcServer({
      socketPath: join(dir, 'nucleus.sock'),
      svcuid: 'e2e-svcuid',
      mqttUrl: stack.mqttUrl,
      componentName: 'com.example.ggjobs',
      accessControl: { subscribe: ['$aws/things/+/jobs/#'], publish: ['$aws/things/+/jobs/#'] },
    });
    iot = new IoTClient({
      endpoint: stack.controlPlaneEndpoint,
      region: stack.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterEach(async () => {
    await listener?.stop({ graceMs: 1_000, flushMs: 1_000 });
    listener = undefined;
    iot.destroy();
    await server.close();
    await stack.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs one queued execution exactly once and reports SUCCEEDED', async () => {
    await createQueuedJob(iot, { operation: 'e2e' });
    const config = configSchema.parse({
      thingName: THING,
      region: stack.region,
      jobId: JOB_ID,
      namespaceId: NAMESPACE,
      stateDirectory: join(dir, 'state'),
      enroll: { enabled: 'false' },
      transport: { kind: 'greengrass-ipc' },
    });
    const runs: Array<{ document: unknown; executionNumber: number }> = [];
    const runJob: RunJob = async (document: unknown, context: JobContext) => {
      runs.push({ document, executionNumber: context.executionNumber });
      return { status: 'SUCCEEDED', statusDetails: { ran: 'via-ipc' } };
    };
    const transport = createGreengrassIpcTransport({
      log,
      socketPath: server.socketPath,
      svcuid: 'e2e-svcuid',
      reconnectMinMs: 20,
      reconnectMaxMs: 200,
    });

    listener = await startListener({ config, transport, runJob, log });
    await reportComponentState(transport, 'RUNNING');

    const execution = await waitFor(async () => {
      const { execution } = await iot.send(
        new DescribeJobExecutionCommand({ jobId: JOB_ID, thingName: THING }),
      );
      return execution?.status === 'SUCCEEDED' ? execution : undefined;
    }, 'the execution to be SUCCEEDED');
    expect(execution.statusDetails?.detailsMap).toMatchObject({ ran: 'via-ipc' });
    expect(runs).toEqual([{ document: { operation: 'e2e' }, executionNumber: execution.executionNumber }]);
    expect(server.states()).toEqual(['RUNNING']);
    // Every Jobs topic went through the nucleus: subscriptions as IPC streams, requests as PublishToIoTCore.
    expect(server.requests('SubscribeToIoTCore').length).toBeGreaterThan(0);
    expect(server.requests('PublishToIoTCore').length).toBeGreaterThan(0);
  });
});
