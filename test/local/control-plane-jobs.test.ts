import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateThingCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  GetJobDocumentCommand,
  ListJobExecutionsForJobCommand,
  ListJobsCommand,
  RemoveThingFromThingGroupCommand,
} from '@aws-sdk/client-iot';
import { describe, expect, it } from 'vitest';
import {
  controlPlanePerTest,
  expectAwsError,
  groupArn,
  groupWith,
  jobArn,
  thingArn,
} from './control-plane-harness.js';

const cp = controlPlanePerTest();

const DOC = JSON.stringify({ version: '1.0', steps: [] });

describe('control plane: jobs', () => {
  it('creates a job and describes it with AWS shapes, dates as Date, counts per status', async () => {
    await groupWith(cp, 'fleet', ['t1', 't2']);
    const before = Math.floor(Date.now() / 1000);
    const created = await cp.iot.send(
      new CreateJobCommand({
        jobId: 'deploy-1',
        targets: [groupArn('fleet')],
        document: DOC,
        description: 'first',
        targetSelection: 'CONTINUOUS',
        namespaceId: 'ggjobs',
        jobExecutionsRolloutConfig: { maximumPerMinute: 50 },
        timeoutConfig: { inProgressTimeoutInMinutes: 30 },
      }),
    );
    expect(created).toMatchObject({ jobId: 'deploy-1', jobArn: jobArn('deploy-1'), description: 'first' });
    const { job } = await cp.iot.send(new DescribeJobCommand({ jobId: 'deploy-1' }));
    expect(job).toMatchObject({
      jobArn: jobArn('deploy-1'),
      jobId: 'deploy-1',
      targetSelection: 'CONTINUOUS',
      status: 'IN_PROGRESS',
      forceCanceled: false,
      targets: [groupArn('fleet')],
      description: 'first',
      namespaceId: 'ggjobs',
      isConcurrent: false,
      jobExecutionsRolloutConfig: { maximumPerMinute: 50 },
      timeoutConfig: { inProgressTimeoutInMinutes: 30 },
      jobProcessDetails: {
        processingTargets: [groupArn('fleet')],
        numberOfQueuedThings: 2,
        numberOfInProgressThings: 0,
        numberOfSucceededThings: 0,
        numberOfCanceledThings: 0,
        numberOfRemovedThings: 0,
      },
    });
    expect(job?.createdAt).toBeInstanceOf(Date);
    expect(Math.floor(job!.createdAt!.getTime() / 1000)).toBeGreaterThanOrEqual(before);
    expect(job?.completedAt).toBeUndefined();
    const document = await cp.iot.send(new GetJobDocumentCommand({ jobId: 'deploy-1' }));
    expect(document.document).toBe(DOC);
  });

  it('defaults to SNAPSHOT: executions at creation only, COMPLETED when all are terminal', async () => {
    await groupWith(cp, 'fleet', ['t1']);
    await cp.iot.send(new CreateJobCommand({ jobId: 'snap', targets: [groupArn('fleet')], document: DOC }));
    await cp.iot.send(new CreateThingCommand({ thingName: 'late' }));
    await cp.iot.send(new AddThingToThingGroupCommand({ thingName: 'late', thingGroupName: 'fleet' }));
    const executions = await cp.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'snap' }));
    expect(executions.executionSummaries?.map((s) => s.thingArn)).toEqual([thingArn('t1')]);
    const { job } = await cp.iot.send(new DescribeJobCommand({ jobId: 'snap' }));
    expect(job?.targetSelection).toBe('SNAPSHOT');
    // the device finishes it over the data plane
    cp.store.updateExecution('t1', 'snap', { status: 'IN_PROGRESS' });
    cp.store.updateExecution('t1', 'snap', { status: 'SUCCEEDED' });
    const done = await cp.iot.send(new DescribeJobCommand({ jobId: 'snap' }));
    expect(done.job?.status).toBe('COMPLETED');
    expect(done.job?.completedAt).toBeInstanceOf(Date);
    expect(done.job?.jobProcessDetails?.numberOfSucceededThings).toBe(1);
  });

  it('gives every thing of a continuous job group a QUEUED execution, also things added later', async () => {
    await groupWith(cp, 'fleet', ['t1']);
    await cp.iot.send(new CreateThingCommand({ thingName: 't2' }));
    await cp.iot.send(
      new CreateJobCommand({
        jobId: 'cont',
        targets: [groupArn('fleet')],
        document: DOC,
        targetSelection: 'CONTINUOUS',
        namespaceId: 'ggjobs',
      }),
    );
    expect(cp.events).toEqual([{ thingName: 't1', jobId: 'cont', namespaceId: 'ggjobs' }]);
    await cp.iot.send(new AddThingToThingGroupCommand({ thingName: 't2', thingGroupName: 'fleet' }));
    expect(cp.events.at(-1)).toEqual({ thingName: 't2', jobId: 'cont', namespaceId: 'ggjobs' });
    const { execution } = await cp.iot.send(
      new DescribeJobExecutionCommand({ jobId: 'cont', thingName: 't2' }),
    );
    expect(execution).toMatchObject({
      jobId: 'cont',
      status: 'QUEUED',
      thingArn: thingArn('t2'),
      executionNumber: 2,
      versionNumber: 1,
      forceCanceled: false,
      statusDetails: { detailsMap: {} },
    });
    expect(execution?.queuedAt).toBeInstanceOf(Date);
    // all executions of a continuous job finishing does not complete it
    for (const thing of ['t1', 't2']) {
      cp.store.updateExecution(thing, 'cont', { namespaceId: 'ggjobs', status: 'IN_PROGRESS' });
      cp.store.updateExecution(thing, 'cont', { namespaceId: 'ggjobs', status: 'SUCCEEDED' });
    }
    expect((await cp.iot.send(new DescribeJobCommand({ jobId: 'cont' }))).job?.status).toBe('IN_PROGRESS');
  });

  it('marks the QUEUED execution of a thing removed from a continuous job group REMOVED', async () => {
    await groupWith(cp, 'fleet', ['t1']);
    await cp.iot.send(
      new CreateJobCommand({
        jobId: 'cont',
        targets: [groupArn('fleet')],
        document: DOC,
        targetSelection: 'CONTINUOUS',
      }),
    );
    cp.events.length = 0;
    await cp.iot.send(new RemoveThingFromThingGroupCommand({ thingName: 't1', thingGroupName: 'fleet' }));
    expect(cp.events).toEqual([{ thingName: 't1', jobId: 'cont' }]);
    const { execution } = await cp.iot.send(
      new DescribeJobExecutionCommand({ jobId: 'cont', thingName: 't1' }),
    );
    expect(execution).toMatchObject({ status: 'REMOVED', versionNumber: 2 });
    const { job } = await cp.iot.send(new DescribeJobCommand({ jobId: 'cont' }));
    expect(job?.jobProcessDetails?.numberOfRemovedThings).toBe(1);
    expect(cp.store.pendingExecutions('t1').queued).toEqual([]);
  });

  it('targets things directly by thing ARN', async () => {
    await cp.iot.send(new CreateThingCommand({ thingName: 'solo' }));
    await cp.iot.send(new CreateJobCommand({ jobId: 'direct', targets: [thingArn('solo')], document: DOC }));
    const { execution } = await cp.iot.send(
      new DescribeJobExecutionCommand({ jobId: 'direct', thingName: 'solo' }),
    );
    expect(execution?.status).toBe('QUEUED');
  });

  it('lists jobs with filters and pages', async () => {
    await groupWith(cp, 'a', []);
    await groupWith(cp, 'b', []);
    await cp.iot.send(new CreateJobCommand({ jobId: 'j1', targets: [groupArn('a')], document: DOC }));
    await cp.iot.send(
      new CreateJobCommand({
        jobId: 'j2',
        targets: [groupArn('b')],
        document: DOC,
        targetSelection: 'CONTINUOUS',
        namespaceId: 'ns',
      }),
    );
    await cp.iot.send(
      new CreateJobCommand({
        jobId: 'j3',
        targets: [groupArn('a')],
        document: DOC,
        targetSelection: 'CONTINUOUS',
      }),
    );
    const page1 = await cp.iot.send(new ListJobsCommand({ maxResults: 2 }));
    expect(page1.jobs?.map((j) => j.jobId)).toEqual(['j1', 'j2']);
    const page2 = await cp.iot.send(new ListJobsCommand({ maxResults: 2, nextToken: page1.nextToken }));
    expect(page2.jobs?.map((j) => j.jobId)).toEqual(['j3']);
    expect(page2.nextToken).toBeUndefined();
    const continuous = await cp.iot.send(new ListJobsCommand({ targetSelection: 'CONTINUOUS' }));
    expect(continuous.jobs?.map((j) => j.jobId)).toEqual(['j2', 'j3']);
    const namespaced = await cp.iot.send(new ListJobsCommand({ namespaceId: 'ns' }));
    expect(namespaced.jobs?.map((j) => j.jobId)).toEqual(['j2']);
    const byGroup = await cp.iot.send(new ListJobsCommand({ thingGroupName: 'a' }));
    expect(byGroup.jobs?.map((j) => j.jobId)).toEqual(['j1', 'j3']);
    // an empty snapshot job has nothing to wait for
    const completed = await cp.iot.send(new ListJobsCommand({ status: 'COMPLETED' }));
    expect(completed.jobs?.map((j) => j.jobId)).toEqual(['j1']);
    expect(completed.jobs?.[0]).toMatchObject({ jobArn: jobArn('j1'), targetSelection: 'SNAPSHOT' });
    await expectAwsError(
      cp.iot.send(new ListJobsCommand({ nextToken: 'forged' })),
      'InvalidRequestException',
      /nextToken/,
    );
  });

  it('refuses a duplicate job id with ResourceAlreadyExistsException', async () => {
    await groupWith(cp, 'a', []);
    await cp.iot.send(new CreateJobCommand({ jobId: 'j', targets: [groupArn('a')], document: DOC }));
    await expectAwsError(
      cp.iot.send(new CreateJobCommand({ jobId: 'j', targets: [groupArn('a')], document: DOC })),
      'ResourceAlreadyExistsException',
      /Job j already exists/,
    );
  });

  it('validates CreateJob input as the service does', async () => {
    await groupWith(cp, 'a', []);
    const create = (input: Partial<ConstructorParameters<typeof CreateJobCommand>[0]>) =>
      cp.iot.send(new CreateJobCommand({ jobId: 'j', targets: [groupArn('a')], document: DOC, ...input }));
    await expectAwsError(
      create({ jobId: 'has space' }),
      'InvalidRequestException',
      /jobId: expected 1-64 characters of \[a-zA-Z0-9_-\]/,
    );
    await expectAwsError(
      create({ jobId: 'x'.repeat(65) }),
      'InvalidRequestException',
      /jobId: expected 1-64/,
    );
    await expectAwsError(
      create({ document: '{not json' }),
      'InvalidRequestException',
      /document: .*not valid JSON/,
    );
    await expectAwsError(
      create({ document: '[1,2]' }),
      'InvalidRequestException',
      /document: expected a JSON object/,
    );
    const big = JSON.stringify({ pad: 'x'.repeat(32_768) });
    await expectAwsError(
      create({ document: big }),
      'InvalidRequestException',
      new RegExp(`document: expected at most 32768 bytes, got ${Buffer.byteLength(big)}`),
    );
    await expectAwsError(create({ document: undefined }), 'InvalidRequestException', /document: is required/);
    await expectAwsError(
      create({ description: 'd'.repeat(2029) }),
      'InvalidRequestException',
      /description: expected at most 2028 characters, got 2029/,
    );
    await expectAwsError(
      create({ targetSelection: 'SOMETIMES' as 'SNAPSHOT' }),
      'InvalidRequestException',
      /targetSelection: expected one of CONTINUOUS, SNAPSHOT/,
    );
    await expectAwsError(
      create({ namespaceId: 'bad/ns' }),
      'InvalidRequestException',
      /namespaceId: expected 1-64 characters of \[a-zA-Z0-9_-\]/,
    );
    await expectAwsError(
      create({ targets: [] }),
      'InvalidRequestException',
      /targets: expected a non-empty list/,
    );
    await expectAwsError(
      create({ targets: ['arn:aws:iot:us-east-1:123456789012:thinggroup/ghost'] }),
      'ResourceNotFoundException',
      /Thing group ghost/,
    );
    await expectAwsError(
      create({ targets: ['arn:aws:iot:eu-west-1:123456789012:thinggroup/a'] }),
      'InvalidRequestException',
      /not a thing or thing group ARN of account 123456789012 in us-east-1/,
    );
    await expectAwsError(
      create({ document: undefined, documentSource: 'https://s3.amazonaws.com/bucket/doc.json' }),
      'InvalidRequestException',
      /documentSource/,
    );
    await expectAwsError(
      cp.iot.send(new DescribeJobCommand({ jobId: 'j' })),
      'ResourceNotFoundException',
      /Job j/,
    );
  });
});
