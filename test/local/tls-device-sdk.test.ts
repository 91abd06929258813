// The local stack over TLS as AWS's own device software sees it: aws-iot-device-sdk-v2's MQTT client
// (aws-crt, s2n TLS) with an X.509 client certificate, exactly as it connects to AWS IoT Core, runs
// the default-namespace Jobs flow with the SDK's jobs client (pending list, start-next, `$next`,
// notify-next). A certificate from another CA, and no certificate, are refused. mqtt.js checks the
// ALPN protocol AWS IoT uses on port 443.
import crt from 'aws-crt';
import sdk, { type iotjobs as jobsTypes } from 'aws-iot-device-sdk-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientCertificate } from '../../src/local/tls/cert-directory.js';
import { createQueuedJob, iotClient, waitFor } from './stack-helpers.js';
import { connectMqtts, startTlsStack, type TlsFixture } from './tls-helpers.js';

const { iot, iotjobs, mqtt } = sdk;
type Connection = InstanceType<typeof mqtt.MqttClientConnection>;

let fixture: TlsFixture;
const connections: Connection[] = [];
let counter = 0;

beforeAll(async () => {
  fixture = await startTlsStack('sdk-tls-thing');
});

afterAll(async () => {
  for (const connection of connections.splice(0)) await connection.disconnect().catch(() => undefined);
  await fixture?.close();
});

/** A device SDK MQTT 3.1.1 connection over TLS with `certificate` (or none), trusting the stack's CA. */
function sdkConnection(certificate: ClientCertificate | undefined): Connection {
  counter += 1;
  const builder = certificate
    ? iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(
        certificate.certFile,
        certificate.keyFile,
      )
    : iot.AwsIotMqttConnectionConfigBuilder.new_default_builder();
  const config = builder
    .with_certificate_authority_from_path(undefined, fixture.stack.caFile!)
    .with_endpoint(fixture.host)
    .with_port(fixture.port)
    .with_client_id(`sdk-tls-${process.pid}-${counter}`)
    .with_clean_session(true)
    .with_keep_alive_seconds(30)
    .with_reconnect_min_sec(30)
    .with_reconnect_max_sec(60)
    .build();
  const connection = new mqtt.MqttClient().new_connection(config);
  connections.push(connection);
  return connection;
}

/** connect() outcome: 'connected', or the error the SDK reports. */
async function tryConnect(connection: Connection): Promise<string> {
  try {
    await connection.connect();
    return 'connected';
  } catch (err) {
    return String((err as { error_name?: string }).error_name ?? (err as Error).message);
  }
}

describe('device SDK over mTLS against `ggjobs local --tls`', () => {
  it('accepts a certificate from the stack CA and refuses one from another CA, and none', async () => {
    const foreign = sdkConnection(fixture.foreign);
    const anonymous = sdkConnection(undefined);
    const [foreignResult, anonymousResult] = await Promise.all([tryConnect(foreign), tryConnect(anonymous)]);
    expect(foreignResult).not.toBe('connected');
    expect(anonymousResult).not.toBe('connected');

    const device = sdkConnection(fixture.device);
    expect(await tryConnect(device)).toBe('connected');
    await device.disconnect();
  });

  it('runs the default-namespace flow: pending list, notify-next, start-next, $next, update', async () => {
    const connection = sdkConnection(fixture.device);
    await connection.connect();
    const jobs = iotjobs.IotJobsClientv2.newFromMqtt311(connection, {
      maxRequestResponseSubscriptions: 8,
      maxStreamingSubscriptions: 4,
      operationTimeoutInSeconds: 20,
    });
    const control = iotClient(fixture.stack);
    try {
      const thingName = fixture.thingName;
      const nexts: jobsTypes.model.NextJobExecutionChangedEvent[] = [];
      let subscribed = false;
      const stream = jobs.createNextJobExecutionChangedStream({ thingName });
      stream.on('subscriptionStatus', (event) => {
        if (event.type === crt.mqtt_request_response.SubscriptionStatusEventType.SubscriptionEstablished) {
          subscribed = true;
        }
      });
      stream.on('incomingPublish', (event) => nexts.push(event.message));
      stream.open();
      await waitFor(() => subscribed, 'the notify-next subscription');

      const document = { operation: 'tls-check', steps: ['one'] };
      const job = await createQueuedJob(control, { thingName, document });
      const queued = await waitFor(() => nexts[0], 'NextJobExecutionChanged for the queued job');
      expect(queued.execution).toMatchObject({ jobId: job.jobId, status: 'QUEUED', jobDocument: document });

      const pending = await jobs.getPendingJobExecutions({ thingName });
      expect(pending.queuedJobs?.map((s) => s.jobId)).toEqual([job.jobId]);
      expect(pending.inProgressJobs).toEqual([]);

      const next = await jobs.describeJobExecution({ thingName, jobId: '$next', includeJobDocument: true });
      expect(next.execution).toMatchObject({ jobId: job.jobId, status: 'QUEUED', jobDocument: document });

      const started = await jobs.startNextPendingJobExecution({
        thingName,
        statusDetails: { step: 'downloading\nline two' },
      });
      expect(started.execution).toMatchObject({
        jobId: job.jobId,
        status: 'IN_PROGRESS',
        versionNumber: 2,
        statusDetails: { step: 'downloading\nline two' },
      });
      const inProgress = await jobs.getPendingJobExecutions({ thingName });
      expect(inProgress.inProgressJobs?.map((s) => s.jobId)).toEqual([job.jobId]);

      const done = await jobs.updateJobExecution({
        thingName,
        jobId: job.jobId,
        status: iotjobs.model.JobStatus.SUCCEEDED,
        statusDetails: { stdout: 'hello\nworld\n' },
        includeJobExecutionState: true,
      });
      expect(done.executionState).toMatchObject({
        status: 'SUCCEEDED',
        statusDetails: { stdout: 'hello\nworld\n' },
      });
      // The queue is empty now: notify-next says so, and $next has no execution.
      const empty = await waitFor(() => nexts.find((e) => e.execution === undefined), 'an empty notify-next');
      expect(empty).not.toHaveProperty('execution');
      const none = await jobs.describeJobExecution({ thingName, jobId: '$next' });
      expect(none.execution).toBeUndefined();
      stream.close();
    } finally {
      jobs.close();
      control.destroy();
      await connection.disconnect();
    }
  });
});

describe('mqtt.js over TLS', () => {
  it('negotiates ALPN x-amzn-mqtt-ca (AWS IoT on port 443) and is refused without a certificate', async () => {
    const client = await connectMqtts(fixture, fixture.device, { ALPNProtocols: ['x-amzn-mqtt-ca'] });
    try {
      const socket = client.stream as unknown as { alpnProtocol?: string | false; authorized?: boolean };
      expect(socket.alpnProtocol).toBe('x-amzn-mqtt-ca');
      expect(socket.authorized).toBe(true);
    } finally {
      await client.endAsync(true);
    }
    await expect(connectMqtts(fixture, undefined)).rejects.toThrow();
    await expect(connectMqtts(fixture, fixture.foreign)).rejects.toThrow();
  });
});
