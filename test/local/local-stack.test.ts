// startLocalStack as a whole: endpoints, the SDK and MQTT on them, request counting, broker
// stop/start on the same port, listen errors, and a close() that leaves nothing running.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  CreateThingCommand,
  DescribeThingCommand,
  type IoTClient,
  ListJobsCommand,
} from '@aws-sdk/client-iot';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../src/local/index.js';
import { connectClient, createQueuedJob, iotClient, waitFor } from './stack-helpers.js';

const stacks: LocalStack[] = [];
const clients: IoTClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const stack of stacks.splice(0)) await stack.close();
});

async function start(options: Parameters<typeof startLocalStack>[0] = {}): Promise<LocalStack> {
  const stack = await startLocalStack({ mqttPort: 0, httpPort: 0, ...options });
  stacks.push(stack);
  return stack;
}

function sdkFor(stack: LocalStack): IoTClient {
  const client = iotClient(stack);
  clients.push(client);
  return client;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('startLocalStack', () => {
  it('listens on loopback ports and serves the AWS SDK and MQTT clients', async () => {
    const stack = await start();
    expect(stack.mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.controlPlaneEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(portOf(stack.mqttUrl)).toBeGreaterThan(0);
    expect(portOf(stack.controlPlaneEndpoint)).toBeGreaterThan(0);
    expect(stack.region).toBe('us-east-1');
    expect(stack.accountId).toMatch(/^\d{12}$/);

    const iot = sdkFor(stack);
    await iot.send(new CreateThingCommand({ thingName: 'stack-thing' }));
    const thing = await iot.send(new DescribeThingCommand({ thingName: 'stack-thing' }));
    expect(thing.thingArn).toBe(`arn:aws:iot:us-east-1:${stack.accountId}:thing/stack-thing`);

    const device = await connectClient(stack);
    const reply = await device.request('$aws/things/stack-thing/jobs/get', { clientToken: 'c' });
    expect(reply).toEqual({
      outcome: 'accepted',
      body: { inProgressJobs: [], queuedJobs: [], timestamp: expect.any(Number), clientToken: 'c' },
    });
    await device.end();
  });

  it('uses the region it is given in ARNs', async () => {
    const stack = await start({ region: 'eu-west-1' });
    const iot = sdkFor(stack);
    const created = await iot.send(new CreateThingCommand({ thingName: 'eu-thing' }));
    expect(stack.region).toBe('eu-west-1');
    expect(created.thingArn).toBe(`arn:aws:iot:eu-west-1:${stack.accountId}:thing/eu-thing`);
  });

  it('counts requests per operation, control plane and data plane', async () => {
    const stack = await start();
    const iot = sdkFor(stack);
    const job = await createQueuedJob(iot);
    await iot.send(new ListJobsCommand({}));
    await iot.send(new ListJobsCommand({}));
    const device = await connectClient(stack);
    await device.request(`$aws/things/${job.thingName}/jobs/$next/get`, {});
    await device.request(`$aws/things/${job.thingName}/jobs/start-next`, {});
    await device.request(`$aws/things/${job.thingName}/jobs/get`, {});
    await device.end();
    expect(stack.requestCount('ListJobs')).toBe(2);
    expect(stack.requestCount('CreateJob')).toBe(1);
    expect(stack.requestCount('data:DescribeJobExecution')).toBe(1);
    expect(stack.requestCount('data:StartNextPendingJobExecution')).toBe(1);
    expect(stack.requestCount('data:GetPendingJobExecutions')).toBe(1);
    // CreateThing, CreateThingGroup, AddThingToThingGroup, CreateJob, 2 x ListJobs, 3 data-plane requests.
    expect(stack.requestCount()).toBe(9);
  });

  it('stops and restarts the broker on the same port, dropping clients and keeping state', async () => {
    const stack = await start();
    const iot = sdkFor(stack);
    const job = await createQueuedJob(iot);
    const client = await connectAsync(stack.mqttUrl, { clientId: 'reconnecting', reconnectPeriod: 50 });
    try {
      let closes = 0;
      let connects = 0;
      client.on('close', () => {
        closes += 1;
      });
      client.on('connect', () => {
        connects += 1;
      });
      await stack.stopBroker();
      await waitFor(() => closes > 0, 'the client to be dropped');
      expect(await accepts(portOf(stack.mqttUrl))).toBe(false);

      await stack.startBroker();
      await waitFor(() => connects > 0, 'the client to reconnect');
      expect(await accepts(portOf(stack.mqttUrl))).toBe(true);
      // The store kept its state across the outage.
      const device = await connectClient(stack);
      const reply = await device.request(`$aws/things/${job.thingName}/jobs/${job.jobId}/get`, {});
      expect(reply.body.execution).toMatchObject({ jobId: job.jobId, status: 'QUEUED' });
      await device.end();
    } finally {
      await client.endAsync(true);
    }
  });

  it('says which listener and port it could not listen on', async () => {
    const first = await start();
    const mqttPort = portOf(first.mqttUrl);
    const httpPort = portOf(first.controlPlaneEndpoint);
    await expect(startLocalStack({ mqttPort, httpPort: 0 })).rejects.toMatchObject({
      code: 'GGJOBS_ERR_LOCAL_LISTEN',
      message: expect.stringContaining(`MQTT broker port ${mqttPort}`),
    });
    await expect(startLocalStack({ mqttPort: 0, httpPort })).rejects.toMatchObject({
      code: 'GGJOBS_ERR_LOCAL_LISTEN',
      message: expect.stringContaining(`HTTP) port ${httpPort}`),
    });
  });

  it('closes both listeners and can be closed twice', async () => {
    const stack = await startLocalStack({ mqttPort: 0, httpPort: 0 });
    const iot = sdkFor(stack);
    await iot.send(new ListJobsCommand({}));
    const device = await connectClient(stack);
    await stack.close();
    await stack.close();
    expect(await accepts(portOf(stack.mqttUrl))).toBe(false);
    expect(await accepts(portOf(stack.controlPlaneEndpoint))).toBe(false);
    await device.end();
  });

  it('leaves no open handles: a process that starts, uses and closes a stack exits by itself', async () => {
    // Runs the compiled stack (dist/ is built by the test global setup) in a child process that does
    // not call process.exit: it only ends once nothing (socket, server, timer) is left open.
    const script = `
      import { startLocalStack } from './dist/local/index.js';
      import { IoTClient, ListJobsCommand } from '@aws-sdk/client-iot';
      import { connectAsync } from 'mqtt';
      const stack = await startLocalStack({ mqttPort: 0, httpPort: 0 });
      const iot = new IoTClient({ endpoint: stack.controlPlaneEndpoint, region: stack.region,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      await iot.send(new ListJobsCommand({}));
      const client = await connectAsync(stack.mqttUrl, { reconnectPeriod: 0 });
      await client.publishAsync('$aws/things/t/jobs/get', '{}', { qos: 1 });
      await stack.close();
      iot.destroy();
      await client.endAsync(true);
      console.log('closed');
    `;
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const bound = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exit;
    clearTimeout(bound);
    expect({ code, stdout: stdout.trim() }, stderr).toEqual({ code: 0, stdout: 'closed' });
  });
});
