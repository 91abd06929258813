// Jobs events: which topics carry JobExecutionsChanged / NextJobExecutionChanged for each
// notifyTopics setting, what they say through an execution's life and a cancellation, and that
// namespaces stay apart.
import {
  AddThingToThingGroupCommand,
  CancelJobCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalStack, type NotifyTopicsMode, startLocalStack } from '../../src/local/index.js';
import { connectClient, createQueuedJob, iotClient, type TestClient, waitFor } from './stack-helpers.js';

const NS = 'ggjobs';

let stack: LocalStack | undefined;
let iot: IoTClient | undefined;
let device: TestClient | undefined;

afterEach(async () => {
  await device?.end();
  iot?.destroy();
  await stack?.close();
  stack = undefined;
  iot = undefined;
  device = undefined;
});

async function setUp(notifyTopics?: NotifyTopicsMode) {
  stack = await startLocalStack({ mqttPort: 0, httpPort: 0, ...(notifyTopics ? { notifyTopics } : {}) });
  iot = iotClient(stack);
  device = await connectClient(stack);
  return { stack, iot, device };
}

function topicsOf(thing: string, jobId: string) {
  const base = `$aws/things/${thing}/jobs`;
  return {
    perJob: `${base}/${jobId}/notify-namespace-${NS}/`,
    thing: `${base}/notify-namespace-${NS}`,
    thingNext: `${base}/notify-next-namespace-${NS}`,
    notify: `${base}/notify`,
    notifyNext: `${base}/notify-next`,
  };
}

/**
 * A round trip through the broker after the events we waited for: the broker has then also delivered
 * anything published before our reply, so topics that are still silent really got nothing.
 */
async function barrier(client: TestClient, thing: string): Promise<void> {
  await client.request(`$aws/things/${thing}/jobs/$next/namespace-barrier/get`, {});
}

const CASES: { mode: NotifyTopicsMode; published: ('perJob' | 'thing' | 'thingNext')[] }[] = [
  { mode: 'documented', published: ['perJob'] },
  { mode: 'observed', published: ['thing', 'thingNext'] },
  { mode: 'both', published: ['perJob', 'thing', 'thingNext'] },
];

describe.each(CASES)('notifyTopics $mode', ({ mode, published }) => {
  it(`publishes on ${published.join(', ')} only, through queue, start and completion`, async () => {
    const { iot, device } = await setUp(mode);
    const thingName = `dev-${mode}`;
    const jobId = `job-${mode}`;
    const topics = topicsOf(thingName, jobId);
    await device.subscribe(`$aws/things/${thingName}/jobs/#`);
    const document = { operation: 'notify-test' };
    await createQueuedJob(iot, { namespaceId: NS, thingName, jobId, document });

    const changed = published.includes('perJob') ? topics.perJob : topics.thing;
    // Queued: JobExecutionsChanged lists it, NextJobExecutionChanged carries it with its document.
    const queued = await waitFor(() => device.on(changed)[0], `JobExecutionsChanged on ${changed}`);
    expect(queued.jobs).toEqual({
      QUEUED: [
        {
          jobId,
          queuedAt: expect.any(Number),
          lastUpdatedAt: expect.any(Number),
          versionNumber: 1,
          executionNumber: 1,
        },
      ],
    });
    expect(Number.isInteger(queued.timestamp)).toBe(true);
    if (published.includes('thingNext')) {
      const next = await waitFor(() => device.on(topics.thingNext)[0], 'NextJobExecutionChanged');
      expect(next.execution).toMatchObject({ jobId, status: 'QUEUED', jobDocument: document, thingName });
    }

    const update = `$aws/things/${thingName}/jobs/${jobId}/namespace-${NS}/update`;
    await device.request(update, { status: 'IN_PROGRESS' });
    const started = await waitFor(() => device.on(changed)[1], 'JobExecutionsChanged after start');
    expect(started.jobs).toMatchObject({
      IN_PROGRESS: [{ jobId, versionNumber: 2, startedAt: expect.any(Number) }],
    });
    // A progress update (IN_PROGRESS again, new statusDetails) changes neither list: no event.
    const progress = await device.request(update, {
      status: 'IN_PROGRESS',
      statusDetails: { progress: '50' },
    });
    expect(progress.outcome).toBe('accepted');

    await device.request(update, { status: 'SUCCEEDED' });
    const finished = await waitFor(() => device.on(changed)[2], 'JobExecutionsChanged after success');
    expect(finished.jobs).toEqual({});
    if (published.includes('thingNext')) {
      // The next execution changed twice (none -> job -> none); starting it did not change which one.
      const nextEvents = await waitFor(
        () => device.on(topics.thingNext).length === 2 && device.on(topics.thingNext),
        'second NextJobExecutionChanged',
      );
      expect(nextEvents[1]).not.toHaveProperty('execution');
    }

    await barrier(device, thingName);
    for (const form of ['perJob', 'thing', 'thingNext'] as const) {
      const count = device.on(topics[form]).length;
      const expected = !published.includes(form) ? 0 : form === 'thingNext' ? 2 : 3;
      expect(count, `${form} (${topics[form]})`).toBe(expected);
    }
    // The default-namespace topics never carry a namespaced job.
    expect(device.on(topics.notify)).toEqual([]);
    expect(device.on(topics.notifyNext)).toEqual([]);
  });
});

describe('notifications', () => {
  it('publishes on all three namespaced forms by default', async () => {
    const { iot, device } = await setUp();
    const topics = topicsOf('dev-default', 'job-default');
    await device.subscribe(topics.perJob, topics.thing, topics.thingNext);
    await createQueuedJob(iot, { namespaceId: NS, thingName: 'dev-default', jobId: 'job-default' });
    for (const topic of [topics.perJob, topics.thing, topics.thingNext]) {
      await waitFor(() => device.on(topic).length === 1, topic);
    }
  });

  it('announces on the per-job topic of every job that one operation queued', async () => {
    const { iot, device } = await setUp('documented');
    const thingName = 'dev-two-jobs';
    const group = await iot.send(new CreateThingGroupCommand({ thingGroupName: 'two-jobs-group' }));
    for (const jobId of ['first-job', 'second-job']) {
      await iot.send(
        new CreateJobCommand({
          jobId,
          targets: [group.thingGroupArn!],
          targetSelection: 'CONTINUOUS',
          document: '{}',
          namespaceId: NS,
        }),
      );
    }
    await iot.send(new CreateThingCommand({ thingName }));
    await device.subscribe(`$aws/things/${thingName}/jobs/#`);
    // Joining the group queues an execution of both continuous jobs in one operation.
    await iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName: 'two-jobs-group' }));
    for (const jobId of ['first-job', 'second-job']) {
      const event = await waitFor(() => device.on(topicsOf(thingName, jobId).perJob)[0], `event of ${jobId}`);
      expect((event.jobs as { QUEUED: { jobId: string }[] }).QUEUED.map((s) => s.jobId)).toEqual([
        'first-job',
        'second-job',
      ]);
    }
  });

  it('drops a cancelled execution from the pending list and from $next', async () => {
    const { iot, device } = await setUp('observed');
    const thingName = 'dev-cancel';
    const topics = topicsOf(thingName, 'unused');
    await device.subscribe(topics.thing, topics.thingNext);
    const first = await createQueuedJob(iot, { namespaceId: NS, thingName, jobId: 'cancel-1' });
    await waitFor(() => device.on(topics.thing).length === 1, 'queued event of the first job');
    const second = await createQueuedJob(iot, { namespaceId: NS, thingName, jobId: 'cancel-2' });
    const both = await waitFor(() => device.on(topics.thing)[1], 'queued event of the second job');
    expect((both.jobs as { QUEUED: { jobId: string }[] }).QUEUED.map((s) => s.jobId)).toEqual([
      'cancel-1',
      'cancel-2',
    ]);

    // Start the first, then force-cancel it: the second becomes next.
    await device.request(`$aws/things/${thingName}/jobs/${first.jobId}/namespace-${NS}/update`, {
      status: 'IN_PROGRESS',
    });
    await waitFor(() => device.on(topics.thing).length === 3, 'event after start');
    await iot.send(new CancelJobCommand({ jobId: first.jobId, force: true }));
    const afterCancel = await waitFor(() => device.on(topics.thing)[3], 'event after cancel');
    expect(afterCancel.jobs).toEqual({ QUEUED: [expect.objectContaining({ jobId: second.jobId })] });
    const next = await waitFor(
      () =>
        device
          .on(topics.thingNext)
          .find((e) => (e.execution as { jobId?: string } | undefined)?.jobId === second.jobId),
      'the second job as next',
    );
    expect(next.execution).toMatchObject({ status: 'QUEUED' });

    await iot.send(new CancelJobCommand({ jobId: second.jobId }));
    const empty = await waitFor(() => device.on(topics.thing)[4], 'event after the second cancel');
    expect(empty.jobs).toEqual({});
    const none = await waitFor(() => {
      const events = device.on(topics.thingNext);
      const last = events[events.length - 1];
      return last && !('execution' in last) && last;
    }, 'NextJobExecutionChanged without execution');
    expect(none).toEqual({ timestamp: expect.any(Number) });
  });

  it('keeps namespaces apart: default topics never see namespaced jobs and vice versa', async () => {
    const { iot, device } = await setUp('both');
    const thingName = 'dev-iso';
    const base = `$aws/things/${thingName}/jobs`;
    await device.subscribe(`${base}/#`);
    const namespaced = await createQueuedJob(iot, { namespaceId: NS, thingName, jobId: 'iso-ns' });
    await waitFor(() => device.on(`${base}/notify-namespace-${NS}`).length === 1, 'namespaced event');

    // Default-namespace requests do not see the namespaced job.
    const pending = await device.request(`${base}/get`, { clientToken: 'p' });
    expect(pending.body).toMatchObject({ inProgressJobs: [], queuedJobs: [], clientToken: 'p' });
    const next = await device.request(`${base}/$next/get`, {});
    expect(next.body).not.toHaveProperty('execution');
    const direct = await device.request(`${base}/${namespaced.jobId}/get`, {});
    expect(direct.body.code).toBe('ResourceNotFound');
    const startNext = await device.request(`${base}/start-next`, {});
    expect(startNext.body).not.toHaveProperty('execution');

    // A default-namespace job shows up on notify/notify-next and not on the namespaced topics.
    const plain = await createQueuedJob(iot, { thingName, jobId: 'iso-default' });
    const notify = await waitFor(() => device.on(`${base}/notify`)[0], 'default notify');
    expect(notify.jobs).toEqual({ QUEUED: [expect.objectContaining({ jobId: plain.jobId })] });
    const notifyNext = await waitFor(() => device.on(`${base}/notify-next`)[0], 'default notify-next');
    expect(notifyNext.execution).toMatchObject({ jobId: plain.jobId });
    const nsNext = await device.request(`${base}/$next/namespace-${NS}/get`, {});
    expect(nsNext.body.execution).toMatchObject({ jobId: namespaced.jobId });

    await barrier(device, thingName);
    expect(device.on(`${base}/notify`)).toHaveLength(1);
    expect(device.on(`${base}/notify-namespace-${NS}`)).toHaveLength(1);
    expect(device.on(`${base}/notify-next-namespace-${NS}`)).toHaveLength(1);
    expect(device.on(`${base}/${plain.jobId}/notify-namespace-${NS}/`)).toEqual([]);
  });
});
