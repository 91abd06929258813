// The whole path a user takes to try the agent's `iot-core` transport without AWS: `ggjobs local
// --tls` in one process, `ggjobs local certs` for the device, and `ggjobs start` with the iot-core
// transport (the device SDK's MQTT 5 client over mTLS) in another. It enrolls through the control
// plane, runs the queued namespaced execution, and reports SUCCEEDED with the handler's output.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  echoDocument,
  handlerDirectory,
  LOCAL_CREDENTIALS,
  NAMESPACE,
  SEED_GROUP,
  SITE_GROUP,
  saveAtomically,
  spawnGgjobs,
  THING,
} from '../agent/helpers.js';
import { runCli, startCli } from '../cli/run-cli.js';
import { waitFor } from './stack-helpers.js';

const WAIT_MS = 60_000;

interface ReadyLine {
  mqttUrl: string;
  mqttsUrl: string;
  caFile: string;
  controlPlaneEndpoint: string;
}

describe('ggjobs start (iot-core transport) on ggjobs local --tls', () => {
  let work: string;
  let local: ReturnType<typeof startCli> | undefined;
  let agent: AgentProcess | undefined;
  let iot: IoTClient | undefined;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'ggjobs-tls-start-'));
  });

  afterEach(async () => {
    await agent?.stop('SIGKILL');
    agent = undefined;
    iot?.destroy();
    if (local && local.child.exitCode === null && local.child.signalCode === null) {
      local.child.kill('SIGKILL');
      await local.exited;
    }
    local = undefined;
    await rm(work, { recursive: true, force: true });
  });

  it('enrolls, runs the execution and reports SUCCEEDED over mTLS', { timeout: 240_000 }, async () => {
    const tlsDir = join(work, 'tls');
    local = startCli([
      'local',
      '--tls',
      '--json',
      '--mqtt-port',
      '0',
      '--http-port',
      '0',
      '--mqtts-port',
      '0',
      '--tls-dir',
      tlsDir,
    ]);
    const started = local;
    const line = await waitFor(
      () => (started.output.stdout.includes('\n') ? started.output.stdout.split('\n')[0] : undefined),
      `the ready line (stderr so far: ${started.output.stderr})`,
      WAIT_MS,
    );
    const ready = JSON.parse(line) as ReadyLine;
    expect(Object.keys(ready).sort()).toEqual(['caFile', 'controlPlaneEndpoint', 'mqttUrl', 'mqttsUrl']);
    expect(ready.mqttsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.caFile).toBe(join(tlsDir, 'ca.pem'));

    const certs = await runCli(['local', 'certs', '--tls-dir', tlsDir, '--thing', THING, '--json']);
    expect(certs.code, certs.stderr).toBe(0);
    const device = JSON.parse(certs.stdout) as { certFile: string; keyFile: string; caFile: string };
    expect(device).toMatchObject({
      certFile: join(tlsDir, `${THING}.pem`),
      keyFile: join(tlsDir, `${THING}.key`),
      caFile: ready.caFile,
    });

    // The cloud side, through the real AWS SDK: the device's thing in its site group, and a continuous
    // namespaced job that targets another group (the agent enrolls its own).
    iot = new IoTClient({
      endpoint: ready.controlPlaneEndpoint,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    await iot.send(new CreateThingCommand({ thingName: THING }));
    const site = await iot.send(new CreateThingGroupCommand({ thingGroupName: SITE_GROUP }));
    const seed = await iot.send(new CreateThingGroupCommand({ thingGroupName: SEED_GROUP }));
    await iot.send(new AddThingToThingGroupCommand({ thingName: THING, thingGroupName: SITE_GROUP }));
    await iot.send(
      new CreateJobCommand({
        jobId: 'job-a',
        targets: [seed.thingGroupArn!],
        targetSelection: 'CONTINUOUS',
        namespaceId: NAMESPACE,
        document: JSON.stringify(echoDocument('hello-over-mtls')),
      }),
    );

    const { hostname, port } = new URL(ready.mqttsUrl);
    const config = join(work, 'ggjobs.yaml');
    await saveAtomically(config, {
      thingName: THING,
      region: 'us-east-1',
      jobId: 'job-a',
      namespaceId: NAMESPACE,
      stateDirectory: join(work, 'state'),
      logLevel: 'info',
      transport: {
        kind: 'iot-core',
        endpoint: hostname,
        port: Number(port),
        certFile: device.certFile,
        keyFile: device.keyFile,
        caFile: device.caFile,
        reconnectMinMs: 100,
        reconnectMaxMs: 1000,
      },
      enroll: {
        thingGroupName: SITE_GROUP,
        endpoint: ready.controlPlaneEndpoint,
        retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
        // The only device of its group: nobody else to wait for at this first boot.
        firstBootWaitSeconds: 0,
      },
      listen: { shutdownGraceSeconds: 5, requestTimeoutMs: 10_000 },
      executor: { handlerDirectory: await handlerDirectory(work) },
    });

    agent = spawnGgjobs(['start', '--config', config]);
    const client = iot;
    await waitFor(
      async () =>
        (await client.send(new DescribeJobCommand({ jobId: 'job-a' }))).job?.targets?.includes(
          site.thingGroupArn!,
        ),
      'the site group to be a target of job-a',
      WAIT_MS,
    );
    const execution = await waitFor(
      async () => {
        const found = await client
          .send(new DescribeJobExecutionCommand({ jobId: 'job-a', thingName: THING }))
          .catch(() => undefined);
        return found?.execution?.status === 'SUCCEEDED' ? found.execution : undefined;
      },
      `the execution to be SUCCEEDED (agent stderr: ${agent.stderr.slice(-2000)})`,
      WAIT_MS,
    );
    expect(execution.statusDetails?.detailsMap?.stdout).toContain('hello-over-mtls');
    expect(agent.logLines().find((l) => l.msg === 'iot-core: connected')).toMatchObject({ clientId: THING });

    // The device SDK's native client takes several seconds to let a stopped process exit.
    expect(await agent.stop('SIGTERM', 90_000)).toBe(0);
    expect(agent.logLines().find((l) => l.msg === 'stopped')).toBeDefined();
    local.child.kill('SIGTERM');
    expect(await local.exited).toBe(0);
  });

  it('`ggjobs local certs` refuses a name that is not a thing name, naming the flag', async () => {
    const run = await runCli(['local', 'certs', '--tls-dir', join(work, 'tls'), '--thing', '../escape']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--thing <name>.*'\.\.\/escape' is invalid.*thing name/);
  });
});
