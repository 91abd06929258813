import {
  CancelJobCommand,
  CancelJobExecutionCommand,
  CreateJobCommand,
  CreateThingCommand,
  DeleteJobCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  ListJobExecutionsForJobCommand,
  ListJobExecutionsForThingCommand,
} from '@aws-sdk/client-iot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ControlPlaneHarness,
  expectAwsError,
  startControlPlane,
  thingArn,
} from './control-plane-harness.js';

let cp: ControlPlaneHarness;
beforeEach(async () => {
  cp = await startControlPlane();
  for (const thingName of ['t1', 't2']) await cp.iot.send(new CreateThingCommand({ thingName }));
});
afterEach(async () => {
  await cp.close();
});

const DOC = '{"steps":[]}';

async function jobFor(jobId: string, namespaceId?: string): Promise<void> {
  await cp.iot.send(
    new CreateJobCommand({ jobId, targets: [thingArn('t1'), thingArn('t2')], document: DOC, namespaceId }),
  );
}

describe('control plane: job executions', () => {
  it('lists executions for a job and for a thing, with filters', async () => {
    await jobFor('a');
    await jobFor('b', 'ns');
    cp.store.updateExecution('t1', 'a', { status: 'IN_PROGRESS', statusDetails: { step: 'download' } });
    const forJob = await cp.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'a' }));
    expect(forJob.executionSummaries?.map((s) => [s.thingArn, s.jobExecutionSummary?.status])).toEqual([
      [thingArn('t1'), 'IN_PROGRESS'],
      [thingArn('t2'), 'QUEUED'],
    ]);
    expect(forJob.executionSummaries?.[0]?.jobExecutionSummary).toMatchObject({
      executionNumber: 1,
      retryAttempt: 0,
    });
    expect(forJob.executionSummaries?.[0]?.jobExecutionSummary?.startedAt).toBeInstanceOf(Date);
    const queued = await cp.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'a', status: 'QUEUED' }));
    expect(queued.executionSummaries?.map((s) => s.thingArn)).toEqual([thingArn('t2')]);
    const forThing = await cp.iot.send(new ListJobExecutionsForThingCommand({ thingName: 't1' }));
    expect(forThing.executionSummaries?.map((s) => s.jobId)).toEqual(['a', 'b']);
    const inNs = await cp.iot.send(
      new ListJobExecutionsForThingCommand({ thingName: 't1', namespaceId: 'ns' }),
    );
    expect(inNs.executionSummaries?.map((s) => s.jobId)).toEqual(['b']);
    const byJob = await cp.iot.send(new ListJobExecutionsForThingCommand({ thingName: 't1', jobId: 'a' }));
    expect(byJob.executionSummaries?.map((s) => s.jobId)).toEqual(['a']);
    await expectAwsError(
      cp.iot.send(new ListJobExecutionsForThingCommand({ thingName: 'ghost' })),
      'ResourceNotFoundException',
    );
    await expectAwsError(
      cp.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'a', status: 'DONE' as 'QUEUED' })),
      'InvalidRequestException',
      /status: expected one of QUEUED/,
    );
  });

  it('describes an execution with statusDetails.detailsMap and by execution number', async () => {
    await jobFor('a');
    cp.store.updateExecution('t2', 'a', { status: 'IN_PROGRESS', statusDetails: { progress: '50' } });
    const { execution } = await cp.iot.send(new DescribeJobExecutionCommand({ jobId: 'a', thingName: 't2' }));
    expect(execution).toMatchObject({
      jobId: 'a',
      thingArn: thingArn('t2'),
      status: 'IN_PROGRESS',
      statusDetails: { detailsMap: { progress: '50' } },
      executionNumber: 2,
      versionNumber: 2,
    });
    const numbered = await cp.iot.send(
      new DescribeJobExecutionCommand({ jobId: 'a', thingName: 't2', executionNumber: 2 }),
    );
    expect(numbered.execution?.executionNumber).toBe(2);
    await expectAwsError(
      cp.iot.send(new DescribeJobExecutionCommand({ jobId: 'a', thingName: 't2', executionNumber: 1 })),
      'ResourceNotFoundException',
      /execution number 1/,
    );
  });

  it('CancelJob cancels QUEUED executions, IN_PROGRESS ones only with force', async () => {
    await jobFor('a');
    cp.store.updateExecution('t1', 'a', { status: 'IN_PROGRESS' });
    cp.events.length = 0;
    const reply = await cp.iot.send(
      new CancelJobCommand({ jobId: 'a', comment: 'stop it', reasonCode: 'BAD_BUILD' }),
    );
    expect(reply.jobId).toBe('a');
    expect(cp.events).toEqual([{ thingName: 't2', jobId: 'a' }]);
    const { job } = await cp.iot.send(new DescribeJobCommand({ jobId: 'a' }));
    expect(job).toMatchObject({
      status: 'CANCELED',
      forceCanceled: false,
      comment: 'stop it',
      reasonCode: 'BAD_BUILD',
    });
    expect(job?.jobProcessDetails).toMatchObject({ numberOfCanceledThings: 1, numberOfInProgressThings: 1 });
    await cp.iot.send(new CancelJobCommand({ jobId: 'a', force: true }));
    const t1 = await cp.iot.send(new DescribeJobExecutionCommand({ jobId: 'a', thingName: 't1' }));
    expect(t1.execution).toMatchObject({ status: 'CANCELED', forceCanceled: true });
    expect((await cp.iot.send(new DescribeJobCommand({ jobId: 'a' }))).job?.forceCanceled).toBe(true);
    await expectAwsError(
      cp.iot.send(new CancelJobCommand({ jobId: 'a', reasonCode: 'lower case' })),
      'InvalidRequestException',
      /reasonCode/,
    );
  });

  it('CancelJobExecution: QUEUED cancels, IN_PROGRESS needs force, terminal ones cannot be cancelled', async () => {
    await jobFor('a');
    await cp.iot.send(new CancelJobExecutionCommand({ jobId: 'a', thingName: 't2' }));
    const t2 = await cp.iot.send(new DescribeJobExecutionCommand({ jobId: 'a', thingName: 't2' }));
    expect(t2.execution).toMatchObject({ status: 'CANCELED', forceCanceled: false, versionNumber: 2 });
    cp.store.updateExecution('t1', 'a', { status: 'IN_PROGRESS' });
    const noForce = await expectAwsError(
      cp.iot.send(new CancelJobExecutionCommand({ jobId: 'a', thingName: 't1' })),
      'InvalidStateTransitionException',
      /IN_PROGRESS; it can only be canceled with force/,
    );
    expect(noForce.$metadata?.httpStatusCode).toBe(409);
    await expectAwsError(
      cp.iot.send(
        new CancelJobExecutionCommand({ jobId: 'a', thingName: 't1', force: true, expectedVersion: 1 }),
      ),
      'VersionConflictException',
      /Expected version 1 but the job execution is at version 2/,
    );
    cp.events.length = 0;
    await cp.iot.send(
      new CancelJobExecutionCommand({
        jobId: 'a',
        thingName: 't1',
        force: true,
        expectedVersion: 2,
        statusDetails: { reason: 'operator' },
      }),
    );
    expect(cp.events).toEqual([{ thingName: 't1', jobId: 'a' }]);
    const t1 = await cp.iot.send(new DescribeJobExecutionCommand({ jobId: 'a', thingName: 't1' }));
    expect(t1.execution).toMatchObject({
      status: 'CANCELED',
      forceCanceled: true,
      statusDetails: { detailsMap: { reason: 'operator' } },
    });
    await expectAwsError(
      cp.iot.send(new CancelJobExecutionCommand({ jobId: 'a', thingName: 't1', force: true })),
      'InvalidStateTransitionException',
      /CANCELED \(terminal\)/,
    );
    // all executions terminal: the snapshot job completed
    expect((await cp.iot.send(new DescribeJobCommand({ jobId: 'a' }))).job?.status).toBe('COMPLETED');
    await expectAwsError(
      cp.iot.send(new CancelJobExecutionCommand({ jobId: 'a', thingName: 'nobody' })),
      'ResourceNotFoundException',
    );
  });

  it('DeleteJob needs force while IN_PROGRESS, honours namespaceId and removes pending executions', async () => {
    await jobFor('a', 'ns');
    await expectAwsError(
      cp.iot.send(new DeleteJobCommand({ jobId: 'a' })),
      'InvalidStateTransitionException',
      /IN_PROGRESS; it can only be deleted with force/,
    );
    await expectAwsError(
      cp.iot.send(new DeleteJobCommand({ jobId: 'a', force: true, namespaceId: 'other' })),
      'InvalidRequestException',
      /not in namespace other/,
    );
    cp.events.length = 0;
    await cp.iot.send(new DeleteJobCommand({ jobId: 'a', force: true, namespaceId: 'ns' }));
    expect(cp.events).toEqual([
      { thingName: 't1', jobId: 'a', namespaceId: 'ns' },
      { thingName: 't2', jobId: 'a', namespaceId: 'ns' },
    ]);
    expect(cp.store.pendingExecutions('t1', 'ns')).toEqual({ inProgress: [], queued: [] });
    await expectAwsError(cp.iot.send(new DescribeJobCommand({ jobId: 'a' })), 'ResourceNotFoundException');
    // a cancelled (terminal) job is deleted without force
    await jobFor('b');
    await cp.iot.send(new CancelJobCommand({ jobId: 'b' }));
    await cp.iot.send(new DeleteJobCommand({ jobId: 'b' }));
    await expectAwsError(cp.iot.send(new DescribeJobCommand({ jobId: 'b' })), 'ResourceNotFoundException');
  });
});
