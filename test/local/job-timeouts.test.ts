// The local stack's timeout, retry and abort rules, through the real @aws-sdk/client-iot (control
// plane) and mqtt.js (data plane), with time compressed: one job-timer minute lasts MINUTE_MS.
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  type CreateJobCommandInput,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  InvalidRequestException,
  type IoTClient,
  ListJobExecutionsForJobCommand,
  ListJobExecutionsForThingCommand,
} from '@aws-sdk/client-iot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMinuteMs } from '../../src/cli/commands/local.js';
import { type LocalStack, startLocalStack } from '../../src/local/index.js';
import { connectClient, iotClient, type TestClient } from './stack-helpers.js';

const MINUTE_MS = 150;
const WAIT = { timeout: 15_000, interval: 20 };

let stack: LocalStack;
let control: IoTClient;
let device: TestClient;
let counter = 0;

beforeEach(async () => {
  stack = await startLocalStack({ mqttPort: 0, httpPort: 0, minuteMs: MINUTE_MS });
  control = iotClient(stack);
  device = await connectClient(stack);
});

afterEach(async () => {
  await device?.end();
  control?.destroy();
  await stack?.close();
});

/** Things in a new group and a job (CONTINUOUS unless said) targeting it, with `extra` CreateJob members. */
async function job(
  extra: Partial<CreateJobCommandInput>,
  things = 1,
): Promise<{ jobId: string; thingNames: string[] }> {
  counter += 1;
  const groupName = `tgroup-${counter}`;
  const group = await control.send(new CreateThingGroupCommand({ thingGroupName: groupName }));
  const thingNames: string[] = [];
  for (let i = 0; i < things; i += 1) {
    const thingName = `tthing-${counter}-${i}`;
    await control.send(new CreateThingCommand({ thingName }));
    await control.send(new AddThingToThingGroupCommand({ thingName, thingGroupName: groupName }));
    thingNames.push(thingName);
  }
  const jobId = `tjob-${counter}`;
  await control.send(
    new CreateJobCommand({
      jobId,
      targets: [group.thingGroupArn!],
      targetSelection: 'CONTINUOUS',
      document: JSON.stringify({ steps: [] }),
      ...extra,
    }),
  );
  return { jobId, thingNames };
}

const jobTopic = (thing: string, jobId: string, ns?: string) =>
  ns ? `$aws/things/${thing}/jobs/${jobId}/namespace-${ns}` : `$aws/things/${thing}/jobs/${jobId}`;

async function update(thing: string, jobId: string, body: Record<string, unknown>, ns?: string) {
  return device.request(`${jobTopic(thing, jobId, ns)}/update`, body);
}

async function describeExecution(thingName: string, jobId: string, executionNumber?: number) {
  const out = await control.send(new DescribeJobExecutionCommand({ thingName, jobId, executionNumber }));
  return out.execution!;
}

async function statusOf(thingName: string, jobId: string): Promise<string | undefined> {
  return (await describeExecution(thingName, jobId)).status;
}

describe('CreateJob timeout, retry and abort configurations', () => {
  const invalid = async (extra: Partial<CreateJobCommandInput>, field: RegExp) => {
    const err = await job(extra).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidRequestException);
    expect((err as Error).message).toMatch(field);
  };

  it('refuses values outside the documented ranges, naming the member', async () => {
    await invalid(
      { timeoutConfig: { inProgressTimeoutInMinutes: 0 } },
      /inProgressTimeoutInMinutes.*1 to 10080/,
    );
    await invalid(
      { timeoutConfig: { inProgressTimeoutInMinutes: 10081 } },
      /inProgressTimeoutInMinutes.*1 to 10080/,
    );
    await invalid(
      { jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 11 }] } },
      /numberOfRetries.*0 to 10/,
    );
    await invalid(
      {
        jobExecutionsRetryConfig: {
          criteriaList: [
            { failureType: 'FAILED', numberOfRetries: 6 },
            { failureType: 'TIMED_OUT', numberOfRetries: 5 },
          ],
        },
      },
      /at most 10 retries in total, got 11/,
    );
    await invalid(
      {
        jobExecutionsRetryConfig: {
          criteriaList: [{ failureType: 'REJECTED' as never, numberOfRetries: 1 }],
        },
      },
      /failureType: expected one of FAILED, TIMED_OUT, ALL/,
    );
    await invalid(
      {
        abortConfig: {
          criteriaList: [
            {
              failureType: 'FAILED',
              action: 'PAUSE' as never,
              thresholdPercentage: 10,
              minNumberOfExecutedThings: 1,
            },
          ],
        },
      },
      /action: expected one of CANCEL/,
    );
    await invalid(
      {
        abortConfig: {
          criteriaList: [
            {
              failureType: 'FAILED',
              action: 'CANCEL',
              thresholdPercentage: 10.555,
              minNumberOfExecutedThings: 1,
            },
          ],
        },
      },
      /thresholdPercentage.*two decimals/,
    );
    await invalid(
      {
        abortConfig: {
          criteriaList: [
            {
              failureType: 'FAILED',
              action: 'CANCEL',
              thresholdPercentage: 10,
              minNumberOfExecutedThings: 0,
            },
          ],
        },
      },
      /minNumberOfExecutedThings/,
    );
  });

  it('DescribeJob returns the configurations as given', async () => {
    const { jobId } = await job({
      timeoutConfig: { inProgressTimeoutInMinutes: 30 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'ALL', numberOfRetries: 3 }] },
    });
    const described = await control.send(new DescribeJobCommand({ jobId }));
    expect(described.job?.timeoutConfig).toEqual({ inProgressTimeoutInMinutes: 30 });
    expect(described.job?.jobExecutionsRetryConfig?.criteriaList).toEqual([
      { failureType: 'ALL', numberOfRetries: 3 },
    ]);
  });
});

describe('timeouts', () => {
  it('the in-progress timer moves the execution to TIMED_OUT with the namespaced notify events', async () => {
    const ns = 'ggjobs';
    const { jobId, thingNames } = await job({
      namespaceId: ns,
      timeoutConfig: { inProgressTimeoutInMinutes: 20 },
    });
    const thing = thingNames[0]!;
    const notify = `$aws/things/${thing}/jobs/notify-namespace-${ns}`;
    const notifyNext = `$aws/things/${thing}/jobs/notify-next-namespace-${ns}`;
    await device.subscribe(notify, notifyNext);

    const started = await update(thing, jobId, { status: 'IN_PROGRESS', includeJobExecutionState: true }, ns);
    expect(started.outcome).toBe('accepted');
    const described = await device.request(`${jobTopic(thing, jobId, ns)}/get`, {});
    const seconds = (described.body.execution as { approximateSecondsBeforeTimedOut?: number })
      .approximateSecondsBeforeTimedOut;
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(1200);

    await expect.poll(() => statusOf(thing, jobId), WAIT).toBe('TIMED_OUT');
    // The execution left the pending list: notify says nothing is pending, notify-next has no execution.
    await expect.poll(() => device.on(notify).at(-1)?.jobs, WAIT).toEqual({});
    await expect.poll(() => device.on(notifyNext).at(-1), WAIT).not.toHaveProperty('execution');

    const late = await update(thing, jobId, { status: 'SUCCEEDED' }, ns);
    expect(late.outcome).toBe('rejected');
    expect(late.body).toMatchObject({
      code: 'InvalidStateTransition',
      executionState: { status: 'TIMED_OUT' },
    });
    const finished = await device.request(`${jobTopic(thing, jobId, ns)}/get`, {});
    expect(finished.body.code).toBe('TerminalStateReached');
    const details = await control.send(new DescribeJobCommand({ jobId }));
    expect(details.job?.jobProcessDetails?.numberOfTimedOutThings).toBe(1);
  });

  it('a step timer from start-next times the execution out; each new value replaces it', async () => {
    const { jobId, thingNames } = await job({});
    const thing = thingNames[0]!;
    const next = await device.request(`$aws/things/${thing}/jobs/start-next`, { stepTimeoutInMinutes: 20 });
    expect(next.outcome).toBe('accepted');
    const first = (next.body.execution as { approximateSecondsBeforeTimedOut: number })
      .approximateSecondsBeforeTimedOut;
    expect(first).toBeGreaterThan(1100);
    expect(first).toBeLessThanOrEqual(1200);

    // Let at least two job-timer minutes pass, then renew with the same value: the timer restarts.
    await new Promise((resolve) => setTimeout(resolve, 2 * MINUTE_MS + 50));
    const before = (await describeExecution(thing, jobId)).approximateSecondsBeforeTimedOut!;
    expect(before).toBeLessThanOrEqual(1200 - 120);
    expect((await update(thing, jobId, { status: 'IN_PROGRESS', stepTimeoutInMinutes: 20 })).outcome).toBe(
      'accepted',
    );
    const renewed = (await describeExecution(thing, jobId)).approximateSecondsBeforeTimedOut!;
    expect(renewed).toBeGreaterThan(before);

    // An update without stepTimeoutInMinutes keeps the timer; a shorter value replaces it.
    await update(thing, jobId, { status: 'IN_PROGRESS', statusDetails: { progress: 'half' } });
    expect((await describeExecution(thing, jobId)).approximateSecondsBeforeTimedOut).toBeGreaterThan(600);
    await update(thing, jobId, { status: 'IN_PROGRESS', stepTimeoutInMinutes: 1 });
    expect((await describeExecution(thing, jobId)).approximateSecondsBeforeTimedOut).toBeLessThanOrEqual(60);
    await expect.poll(() => statusOf(thing, jobId), WAIT).toBe('TIMED_OUT');
    const timedOut = await describeExecution(thing, jobId);
    expect(timedOut.statusDetails?.detailsMap).toEqual({ progress: 'half' });
    expect(timedOut.approximateSecondsBeforeTimedOut).toBeUndefined();
  });

  it('a step timer never outlives the in-progress timer', async () => {
    const { jobId, thingNames } = await job({ timeoutConfig: { inProgressTimeoutInMinutes: 20 } });
    const thing = thingNames[0]!;
    await update(thing, jobId, { status: 'IN_PROGRESS', stepTimeoutInMinutes: 10080 });
    expect((await describeExecution(thing, jobId)).approximateSecondsBeforeTimedOut).toBeLessThanOrEqual(
      1200,
    );
    await expect.poll(() => statusOf(thing, jobId), WAIT).toBe('TIMED_OUT');
  });

  it('a terminal status stops the timers', async () => {
    const { jobId, thingNames } = await job({ timeoutConfig: { inProgressTimeoutInMinutes: 5 } });
    const thing = thingNames[0]!;
    await update(thing, jobId, { status: 'IN_PROGRESS', stepTimeoutInMinutes: 4 });
    expect((await update(thing, jobId, { status: 'SUCCEEDED' })).outcome).toBe('accepted');
    await new Promise((resolve) => setTimeout(resolve, 7 * MINUTE_MS));
    expect(await statusOf(thing, jobId)).toBe('SUCCEEDED');
  });

  it('refuses stepTimeoutInMinutes outside 1..10080 on update and start-next', async () => {
    const { jobId, thingNames } = await job({});
    const thing = thingNames[0]!;
    for (const value of [0, 10081, 1.5, '5']) {
      const start = await device.request(`$aws/things/${thing}/jobs/start-next`, {
        stepTimeoutInMinutes: value,
      });
      expect(start.body).toMatchObject({ code: 'InvalidRequest' });
      expect(String(start.body.message)).toMatch(/stepTimeoutInMinutes.*1 to 10080/);
      const updated = await update(thing, jobId, { status: 'IN_PROGRESS', stepTimeoutInMinutes: value });
      expect(updated.body).toMatchObject({ code: 'InvalidRequest' });
    }
    expect(await statusOf(thing, jobId)).toBe('QUEUED');
  });
});

describe('jobExecutionsRetryConfig', () => {
  const summaries = async (jobId: string, thingName: string) => {
    const forThing = await control.send(new ListJobExecutionsForThingCommand({ thingName, jobId }));
    const forJob = await control.send(new ListJobExecutionsForJobCommand({ jobId }));
    const ofThing = forJob.executionSummaries?.filter((s) => s.thingArn?.endsWith(`:thing/${thingName}`));
    expect(ofThing?.map((s) => s.jobExecutionSummary)).toEqual(
      forThing.executionSummaries?.map((s) => s.jobExecutionSummary),
    );
    return forThing.executionSummaries!.map((s) => ({
      executionNumber: s.jobExecutionSummary!.executionNumber,
      status: s.jobExecutionSummary!.status,
      retryAttempt: s.jobExecutionSummary!.retryAttempt,
    }));
  };

  it('TIMED_OUT x1: one retry is queued as a new execution and announced; the second time-out is final', async () => {
    const { jobId, thingNames } = await job({
      timeoutConfig: { inProgressTimeoutInMinutes: 1 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 1 }] },
    });
    const thing = thingNames[0]!;
    const notifyNext = `$aws/things/${thing}/jobs/notify-next`;
    await device.subscribe(notifyNext);
    await update(thing, jobId, { status: 'IN_PROGRESS' });
    await expect
      .poll(() => device.on(notifyNext).at(-1)?.execution, WAIT)
      .toMatchObject({ jobId, executionNumber: 2, status: 'QUEUED' });
    expect(await summaries(jobId, thing)).toEqual([
      { executionNumber: 1, status: 'TIMED_OUT', retryAttempt: 0 },
      { executionNumber: 2, status: 'QUEUED', retryAttempt: 1 },
    ]);

    // The old execution stays terminal; the retry is another execution number.
    const stale = await update(thing, jobId, { status: 'SUCCEEDED', executionNumber: 1 });
    expect(stale.body).toMatchObject({ code: 'InvalidStateTransition' });
    await update(thing, jobId, { status: 'IN_PROGRESS', executionNumber: 2 });
    await expect.poll(async () => (await summaries(jobId, thing)).at(-1)?.status, WAIT).toBe('TIMED_OUT');
    await new Promise((resolve) => setTimeout(resolve, 2 * MINUTE_MS));
    expect(await summaries(jobId, thing)).toEqual([
      { executionNumber: 1, status: 'TIMED_OUT', retryAttempt: 0 },
      { executionNumber: 2, status: 'TIMED_OUT', retryAttempt: 1 },
    ]);
  });

  it('FAILED x2 retries twice; REJECTED and a type without a criterion are never retried', async () => {
    const { jobId, thingNames } = await job(
      {
        timeoutConfig: { inProgressTimeoutInMinutes: 20 },
        jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 2 }] },
      },
      3,
    );
    const [a, b, c] = thingNames as [string, string, string];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      // Execution numbers count per job: each retry gets the next one.
      const n = (await summaries(jobId, a)).at(-1)!.executionNumber;
      await update(a, jobId, { status: 'IN_PROGRESS', executionNumber: n });
      expect((await update(a, jobId, { status: 'FAILED', executionNumber: n })).outcome).toBe('accepted');
    }
    expect((await summaries(jobId, a)).map((s) => [s.status, s.retryAttempt])).toEqual([
      ['FAILED', 0],
      ['FAILED', 1],
      ['FAILED', 2],
    ]);
    await update(b, jobId, { status: 'REJECTED' });
    expect((await summaries(jobId, b)).map((s) => s.status)).toEqual(['REJECTED']);
    await update(c, jobId, { status: 'IN_PROGRESS' });
    await expect.poll(() => statusOf(c, jobId), WAIT).toBe('TIMED_OUT');
    expect((await summaries(jobId, c)).map((s) => s.status)).toEqual(['TIMED_OUT']);
  });

  it('ALL x1 shares one budget between FAILED and TIMED_OUT', async () => {
    const { jobId, thingNames } = await job({
      timeoutConfig: { inProgressTimeoutInMinutes: 10 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'ALL', numberOfRetries: 1 }] },
    });
    const thing = thingNames[0]!;
    await update(thing, jobId, { status: 'IN_PROGRESS' });
    await update(thing, jobId, { status: 'FAILED' });
    await update(thing, jobId, { status: 'IN_PROGRESS', executionNumber: 2 });
    await expect.poll(async () => (await summaries(jobId, thing)).at(-1)?.status, WAIT).toBe('TIMED_OUT');
    expect(await summaries(jobId, thing)).toEqual([
      { executionNumber: 1, status: 'FAILED', retryAttempt: 0 },
      { executionNumber: 2, status: 'TIMED_OUT', retryAttempt: 1 },
    ]);
  });
});

describe('abortConfig', () => {
  const abortAt = (thresholdPercentage: number, minNumberOfExecutedThings: number) => ({
    abortConfig: {
      criteriaList: [
        {
          failureType: 'FAILED' as const,
          action: 'CANCEL' as const,
          thresholdPercentage,
          minNumberOfExecutedThings,
        },
      ],
    },
  });

  it('cancels the job and its QUEUED executions once the threshold is reached, not before', async () => {
    const { jobId, thingNames } = await job(abortAt(50, 2), 4);
    const [a, b, c, d] = thingNames as [string, string, string, string];
    await update(a, jobId, { status: 'IN_PROGRESS' });
    await update(a, jobId, { status: 'FAILED' });
    // One executed thing: below minNumberOfExecutedThings, nothing happens.
    expect((await control.send(new DescribeJobCommand({ jobId }))).job?.status).toBe('IN_PROGRESS');
    await update(d, jobId, { status: 'IN_PROGRESS' });
    await update(b, jobId, { status: 'IN_PROGRESS' });
    await update(b, jobId, { status: 'SUCCEEDED' });
    // 1 of 2 executed things FAILED = 50 %: abort.
    const described = await control.send(new DescribeJobCommand({ jobId }));
    expect(described.job?.status).toBe('CANCELED');
    expect(described.job?.comment).toMatch(/abortConfig/);
    expect(await statusOf(c, jobId)).toBe('CANCELED');
    expect(await statusOf(d, jobId)).toBe('IN_PROGRESS');
    const late = await update(c, jobId, { status: 'IN_PROGRESS' });
    expect(late.body).toMatchObject({
      code: 'InvalidStateTransition',
      executionState: { status: 'CANCELED' },
    });
  });

  it('keeps the job running while failures stay under the threshold', async () => {
    const { jobId, thingNames } = await job(abortAt(60, 2), 3);
    const [a, b, c] = thingNames as [string, string, string];
    for (const [thing, status] of [
      [a, 'FAILED'],
      [b, 'SUCCEEDED'],
    ] as const) {
      await update(thing, jobId, { status: 'IN_PROGRESS' });
      await update(thing, jobId, { status });
    }
    expect((await control.send(new DescribeJobCommand({ jobId }))).job?.status).toBe('IN_PROGRESS');
    expect(await statusOf(c, jobId)).toBe('QUEUED');
  });
});

describe('ggjobs local --minute-ms', () => {
  it('takes a whole number of milliseconds >= 1', () => {
    expect(parseMinuteMs('250')).toBe(250);
    for (const bad of ['0', '-5', '1.5', 'abc', '']) {
      expect(() => parseMinuteMs(bad)).toThrow(/whole number of milliseconds >= 1/);
    }
  });

  it('the stack reports its minute length', () => {
    expect(stack.minuteMs).toBe(MINUTE_MS);
  });
});
