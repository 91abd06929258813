// Step timers and TIMED_OUT through AWS's own device SDK (aws-iot-device-sdk-v2 IotJobsClientv2 over
// the aws-crt MQTT 3.1.1 client, plain TCP as in data-plane-device-sdk.test.ts), with compressed time.
import { DescribeJobExecutionCommand, type IoTClient } from '@aws-sdk/client-iot';
import sdk, { type iotjobs as jobsTypes } from 'aws-iot-device-sdk-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../src/local/index.js';
import { connectDeviceSdkJobs, type DeviceSdkJobs, rejection } from './device-sdk-jobs.js';
import { createQueuedJob, iotClient } from './stack-helpers.js';

const MINUTE_MS = 300;

let stack: LocalStack;
let control: IoTClient;
const { iotjobs } = sdk;

let device: DeviceSdkJobs | undefined;
let jobs: jobsTypes.IotJobsClientv2;

beforeEach(async () => {
  stack = await startLocalStack({ mqttPort: 0, httpPort: 0, minuteMs: MINUTE_MS });
  control = iotClient(stack);
  device = await connectDeviceSdkJobs(stack, `crt-timeouts-${process.pid}`);
  ({ jobs } = device);
});

afterEach(async () => {
  await device?.close();
  control?.destroy();
  await stack?.close();
});

describe('IotJobsClientv2: step timers', () => {
  it('step timers from startNext and update time the execution out; later requests get the modeled errors', async () => {
    const job = await createQueuedJob(control);
    const { thingName, jobId } = job;

    const invalid = await rejection(
      jobs.startNextPendingJobExecution({ thingName, stepTimeoutInMinutes: 10081 }),
    );
    expect(invalid).toMatchObject({ code: 'InvalidRequest' });

    const started = await jobs.startNextPendingJobExecution({ thingName, stepTimeoutInMinutes: 10 });
    expect(started.execution).toMatchObject({ jobId, status: 'IN_PROGRESS' });
    // The SDK's JobExecutionData has no approximateSecondsBeforeTimedOut; the control plane shows it.
    const running = await control.send(new DescribeJobExecutionCommand({ thingName, jobId }));
    expect(running.execution?.approximateSecondsBeforeTimedOut).toBeGreaterThan(0);
    expect(running.execution?.approximateSecondsBeforeTimedOut).toBeLessThanOrEqual(600);
    // A new, shorter step timer replaces it.
    const renewed = await jobs.updateJobExecution({
      thingName,
      jobId,
      status: iotjobs.model.JobStatus.IN_PROGRESS,
      stepTimeoutInMinutes: 1,
      includeJobExecutionState: true,
    });
    expect(renewed.executionState).toMatchObject({ status: 'IN_PROGRESS' });

    await expect
      .poll(
        async () =>
          (await control.send(new DescribeJobExecutionCommand({ thingName, jobId }))).execution?.status,
        { timeout: 15_000, interval: 25 },
      )
      .toBe('TIMED_OUT');

    const late = await rejection(
      jobs.updateJobExecution({ thingName, jobId, status: iotjobs.model.JobStatus.SUCCEEDED }),
    );
    expect(late).toMatchObject({ code: 'InvalidStateTransition', executionState: { status: 'TIMED_OUT' } });
    const described = await rejection(jobs.describeJobExecution({ thingName, jobId }));
    expect(described).toMatchObject({ code: 'TerminalStateReached' });
    const next = await jobs.startNextPendingJobExecution({ thingName });
    expect(next.execution).toBeUndefined();
  });
});
