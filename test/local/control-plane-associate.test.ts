import {
  AssociateTargetsWithJobCommand,
  CancelJobCommand,
  CreateJobCommand,
  CreateThingGroupCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  ListJobExecutionsForJobCommand,
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

const cp = controlPlanePerTest(async (fresh) => {
  await groupWith(fresh, 'seed', []);
  await groupWith(fresh, 'cores', ['core-1']);
});

const DOC = '{"steps":[]}';

async function createJob(
  jobId: string,
  options: { targetSelection?: 'CONTINUOUS' | 'SNAPSHOT'; namespaceId?: string },
) {
  await cp.iot.send(new CreateJobCommand({ jobId, targets: [groupArn('seed')], document: DOC, ...options }));
}

describe('control plane: AssociateTargetsWithJob', () => {
  it('associates a group with a continuous namespaced job and queues its things', async () => {
    await createJob('enroll', { targetSelection: 'CONTINUOUS', namespaceId: 'ggjobs' });
    const reply = await cp.iot.send(
      new AssociateTargetsWithJobCommand({
        jobId: 'enroll',
        targets: [groupArn('cores')],
        namespaceId: 'ggjobs',
        comment: 'enrolled by ggjobs',
      }),
    );
    expect(reply).toMatchObject({ jobId: 'enroll', jobArn: jobArn('enroll') });
    const { job } = await cp.iot.send(new DescribeJobCommand({ jobId: 'enroll' }));
    expect(job?.targets).toEqual([groupArn('seed'), groupArn('cores')]);
    const { execution } = await cp.iot.send(
      new DescribeJobExecutionCommand({ jobId: 'enroll', thingName: 'core-1' }),
    );
    expect(execution?.status).toBe('QUEUED');
    expect(cp.events).toEqual([{ thingName: 'core-1', jobId: 'enroll', namespaceId: 'ggjobs' }]);
    // the namespace and comment of the request are recorded
    expect(cp.store.describeJob('enroll').associations).toEqual([
      expect.objectContaining({
        targets: [groupArn('cores')],
        namespaceId: 'ggjobs',
        comment: 'enrolled by ggjobs',
      }),
    ]);
  });

  it('is idempotent: re-associating a target neither duplicates it nor its executions', async () => {
    await createJob('enroll', { targetSelection: 'CONTINUOUS' });
    for (let i = 0; i < 2; i += 1) {
      await cp.iot.send(
        new AssociateTargetsWithJobCommand({ jobId: 'enroll', targets: [groupArn('cores')] }),
      );
    }
    const { job } = await cp.iot.send(new DescribeJobCommand({ jobId: 'enroll' }));
    expect(job?.targets).toEqual([groupArn('seed'), groupArn('cores')]);
    const executions = await cp.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'enroll' }));
    expect(executions.executionSummaries?.map((s) => s.thingArn)).toEqual([thingArn('core-1')]);
    expect(cp.events.length).toBe(1);
  });

  it('refuses a SNAPSHOT job with InvalidRequestException', async () => {
    await createJob('snap', {});
    await expectAwsError(
      cp.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'snap', targets: [groupArn('cores')] })),
      'InvalidRequestException',
      /targetSelection SNAPSHOT; targets can only be associated with a CONTINUOUS job/,
    );
  });

  it('refuses a job that is not IN_PROGRESS with InvalidRequestException', async () => {
    await createJob('enroll', { targetSelection: 'CONTINUOUS' });
    await cp.iot.send(new CancelJobCommand({ jobId: 'enroll' }));
    await expectAwsError(
      cp.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'enroll', targets: [groupArn('cores')] })),
      'InvalidRequestException',
      /is CANCELED; targets can only be associated with an IN_PROGRESS job/,
    );
  });

  it('refuses more than 100 targets with LimitExceededException (410)', async () => {
    await createJob('enroll', { targetSelection: 'CONTINUOUS' });
    const names = Array.from({ length: 99 }, (_, i) => `g${i}`);
    for (const name of names) await cp.iot.send(new CreateThingGroupCommand({ thingGroupName: name }));
    // seed + 99 = 100: still allowed
    await cp.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'enroll', targets: names.map(groupArn) }));
    const error = await expectAwsError(
      cp.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'enroll', targets: [groupArn('cores')] })),
      'LimitExceededException',
      /at most 100 targets; this request would make it 101/,
    );
    expect(error.$metadata?.httpStatusCode).toBe(410);
    // a target already counted is not a new one
    await cp.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'enroll', targets: [groupArn('g5')] }));
  });

  it('reports an unknown job or group as ResourceNotFoundException', async () => {
    await expectAwsError(
      cp.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'nope', targets: [groupArn('cores')] })),
      'ResourceNotFoundException',
      /Job nope cannot be found/,
    );
    await createJob('enroll', { targetSelection: 'CONTINUOUS' });
    await expectAwsError(
      cp.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'enroll', targets: [groupArn('ghosts')] })),
      'ResourceNotFoundException',
      /Thing group ghosts cannot be found/,
    );
  });

  it('honours namespaceId: a different namespace is an InvalidRequestException', async () => {
    await createJob('enroll', { targetSelection: 'CONTINUOUS', namespaceId: 'ggjobs' });
    await expectAwsError(
      cp.iot.send(
        new AssociateTargetsWithJobCommand({
          jobId: 'enroll',
          targets: [groupArn('cores')],
          namespaceId: 'other',
        }),
      ),
      'InvalidRequestException',
      /in namespace ggjobs, not in namespace other/,
    );
    await createJob('plain', { targetSelection: 'CONTINUOUS' });
    await expectAwsError(
      cp.iot.send(
        new AssociateTargetsWithJobCommand({
          jobId: 'plain',
          targets: [groupArn('cores')],
          namespaceId: 'ggjobs',
        }),
      ),
      'InvalidRequestException',
      /not in a namespace/,
    );
    expect(cp.store.describeJob('enroll').associations).toEqual([]);
  });

  it('validates the request: comment length, namespace pattern, targets', async () => {
    await createJob('enroll', { targetSelection: 'CONTINUOUS' });
    await expectAwsError(
      cp.iot.send(
        new AssociateTargetsWithJobCommand({
          jobId: 'enroll',
          targets: [groupArn('cores')],
          comment: 'c'.repeat(2029),
        }),
      ),
      'InvalidRequestException',
      /comment: expected at most 2028 characters, got 2029/,
    );
    await expectAwsError(
      cp.iot.send(
        new AssociateTargetsWithJobCommand({
          jobId: 'enroll',
          targets: [groupArn('cores')],
          namespaceId: 'a b',
        }),
      ),
      'InvalidRequestException',
      /namespaceId: expected 1-64 characters/,
    );
    await expectAwsError(
      cp.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'enroll', targets: [] })),
      'InvalidRequestException',
      /targets: expected a non-empty list/,
    );
    await expectAwsError(
      cp.iot.send(new AssociateTargetsWithJobCommand({ jobId: 'enroll', targets: ['cores'] })),
      'InvalidRequestException',
      /Target cores is not a thing or thing group ARN/,
    );
  });
});
