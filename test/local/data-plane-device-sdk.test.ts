// Cross-check of the default-namespace data plane with AWS's own device SDK: aws-iot-device-sdk-v2's
// IotJobsClientv2 over an MQTT 3.1.1 connection of the aws-crt client (device-sdk-jobs.ts).
import { CancelJobCommand, type IoTClient } from '@aws-sdk/client-iot';
// aws-crt is aws-iot-device-sdk-v2's own dependency; the SDK does not re-export this enum.
import crt from 'aws-crt';
import sdk, { type iotjobs as jobsTypes } from 'aws-iot-device-sdk-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../src/local/index.js';
import { connectDeviceSdkJobs, type DeviceSdkJobs, rejection } from './device-sdk-jobs.js';
import { createQueuedJob, iotClient, waitFor } from './stack-helpers.js';

type JobsClient = jobsTypes.IotJobsClientv2;

let stack: LocalStack;
let control: IoTClient;
const { iotjobs } = sdk;

let device: DeviceSdkJobs | undefined;
let jobs: JobsClient;
let connectionCounter = 0;

beforeEach(async () => {
  stack = await startLocalStack({ mqttPort: 0, httpPort: 0 });
  control = iotClient(stack);
  device = await connectDeviceSdkJobs(stack, `crt-${process.pid}-${(connectionCounter += 1)}`);
  ({ jobs } = device);
});

afterEach(async () => {
  await device?.close();
  control?.destroy();
  await stack?.close();
});

describe('IotJobsClientv2 (MQTT 3.1.1) against the local stack', () => {
  it('describes, starts next and updates an execution', async () => {
    const document = { operation: 'sdk-check' };
    const job = await createQueuedJob(control, { document });
    const thingName = job.thingName;

    const described = await jobs.describeJobExecution({
      thingName,
      jobId: job.jobId,
      includeJobDocument: true,
    });
    expect(described.execution).toMatchObject({
      jobId: job.jobId,
      thingName,
      status: 'QUEUED',
      versionNumber: 1,
      executionNumber: 1,
      jobDocument: document,
    });
    expect(Number.isInteger(described.timestamp)).toBe(true);

    const pending = await jobs.getPendingJobExecutions({ thingName });
    expect(pending.queuedJobs?.map((s) => s.jobId)).toEqual([job.jobId]);
    expect(pending.inProgressJobs).toEqual([]);

    const started = await jobs.startNextPendingJobExecution({ thingName, statusDetails: { step: 'start' } });
    expect(started.execution).toMatchObject({
      jobId: job.jobId,
      status: 'IN_PROGRESS',
      versionNumber: 2,
      statusDetails: { step: 'start' },
      jobDocument: document,
    });

    const updated = await jobs.updateJobExecution({
      thingName,
      jobId: job.jobId,
      status: iotjobs.model.JobStatus.SUCCEEDED,
      expectedVersion: 2,
      includeJobExecutionState: true,
    });
    expect(updated.executionState).toMatchObject({ status: 'SUCCEEDED', versionNumber: 3 });

    const next = await jobs.describeJobExecution({ thingName, jobId: '$next' });
    expect(next.execution).toBeUndefined();
  });

  it('gets VersionMismatch, InvalidStateTransition and TerminalStateReached as modeled errors', async () => {
    const job = await createQueuedJob(control);
    const thingName = job.thingName;
    const mismatch = await rejection(
      jobs.updateJobExecution({
        thingName,
        jobId: job.jobId,
        status: iotjobs.model.JobStatus.IN_PROGRESS,
        expectedVersion: 5,
      }),
    );
    expect(mismatch).toMatchObject({
      code: 'VersionMismatch',
      executionState: { status: 'QUEUED', versionNumber: 1 },
    });

    const skipped = await rejection(
      jobs.updateJobExecution({ thingName, jobId: job.jobId, status: iotjobs.model.JobStatus.SUCCEEDED }),
    );
    expect(skipped).toMatchObject({ code: 'InvalidStateTransition', executionState: { status: 'QUEUED' } });

    await jobs.updateJobExecution({ thingName, jobId: job.jobId, status: iotjobs.model.JobStatus.REJECTED });
    const terminal = await rejection(
      jobs.updateJobExecution({ thingName, jobId: job.jobId, status: iotjobs.model.JobStatus.IN_PROGRESS }),
    );
    expect(terminal).toMatchObject({
      code: 'InvalidStateTransition',
      executionState: { status: 'REJECTED' },
    });

    const finished = await rejection(jobs.describeJobExecution({ thingName, jobId: job.jobId }));
    expect(finished.code).toBe('TerminalStateReached');

    const missing = await rejection(jobs.describeJobExecution({ thingName, jobId: 'no-such-job' }));
    expect(missing.code).toBe('ResourceNotFound');
  });

  it('streams JobExecutionsChanged and NextJobExecutionChanged events', async () => {
    const thingName = 'crt-stream-thing';
    const changes: Record<string, unknown>[] = [];
    const nexts: Record<string, unknown>[] = [];
    let subscribed = 0;
    const changedStream = jobs.createJobExecutionsChangedStream({ thingName });
    const nextStream = jobs.createNextJobExecutionChangedStream({ thingName });
    for (const stream of [changedStream, nextStream]) {
      stream.on('subscriptionStatus', (event) => {
        if (event.type === crt.mqtt_request_response.SubscriptionStatusEventType.SubscriptionEstablished) {
          subscribed += 1;
        }
      });
    }
    changedStream.on('incomingPublish', (event) => changes.push(event.message as Record<string, unknown>));
    nextStream.on('incomingPublish', (event) => nexts.push(event.message as Record<string, unknown>));
    changedStream.open();
    nextStream.open();
    await waitFor(() => subscribed === 2, 'both streams subscribed');

    const job = await createQueuedJob(control, { thingName });
    const queued = await waitFor(() => changes[0], 'JobExecutionsChanged');
    expect(queued.jobs).toEqual({
      QUEUED: [expect.objectContaining({ jobId: job.jobId, versionNumber: 1 })],
    });
    const next = await waitFor(() => nexts[0], 'NextJobExecutionChanged');
    expect(next.execution).toMatchObject({ jobId: job.jobId, status: 'QUEUED' });

    await control.send(new CancelJobCommand({ jobId: job.jobId }));
    const cancelled = await waitFor(() => changes[1], 'JobExecutionsChanged after cancel');
    expect(cancelled.jobs).toEqual({});
    const none = await waitFor(() => nexts[1], 'NextJobExecutionChanged after cancel');
    expect(none).not.toHaveProperty('execution');
    changedStream.close();
    nextStream.close();
  });
});
