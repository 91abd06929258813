// enroll() against a scripted fake IoT client: the orderings that a real race produces only by chance
// (another device associating the group, or filling the job, between our describe and our associate).
import type { IoTClient } from '@aws-sdk/client-iot';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import { enroll } from '../../src/enroll/enroll.js';
import {
  AssociationRefusedError,
  ControlPlaneAccessDeniedError,
  JobNotFoundError,
  JobNotInProgressError,
  JobTargetsFullError,
  ThingGroupNotFoundError,
} from '../../src/errors.js';
import { awsError, fakeClock } from './helpers.js';

const groupArn = 'arn:aws:iot:us-east-1:123456789012:thinggroup/site-a';
const config = validateConfig({
  thingName: 'core-1',
  region: 'us-east-1',
  jobId: 'site-maintenance',
  namespaceId: 'acme-ops',
  transport: { kind: 'greengrass-ipc' },
  enroll: { thingGroupArn: groupArn },
});
const job = {
  jobId: 'site-maintenance',
  jobArn: 'arn:aws:iot:us-east-1:123456789012:job/site-maintenance',
  status: 'IN_PROGRESS',
  targetSelection: 'CONTINUOUS',
  namespaceId: 'acme-ops',
  targets: [] as string[],
};

type Reply = object | Error;

/** Answers each operation from its own queue (the last answer repeats); records the calls. */
function scriptedClient(script: Record<string, Reply[]>) {
  const calls: { operation: string; input: unknown }[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: unknown }) {
      const operation = command.constructor.name.replace(/Command$/, '');
      calls.push({ operation, input: command.input });
      const queue = script[operation];
      if (!queue || queue.length === 0) throw new Error(`unexpected ${operation}`);
      const reply = queue.length > 1 ? queue.shift()! : queue[0]!;
      if (reply instanceof Error) throw reply;
      return reply;
    },
    destroy() {},
  };
  return {
    client: client as unknown as IoTClient,
    calls,
    count: (op: string) => calls.filter((c) => c.operation === op).length,
  };
}

function run(script: Record<string, Reply[]>) {
  const fake = scriptedClient(script);
  const clock = fakeClock();
  return {
    fake,
    promise: enroll(config, { client: fake.client, sleep: clock.sleep, now: clock.now, random: () => 0.5 }),
  };
}

describe('enroll decisions and races (scripted client)', () => {
  it('associates with one describe and one associate, sending the namespace and a comment', async () => {
    const { fake, promise } = run({
      DescribeJob: [{ job }],
      AssociateTargetsWithJob: [{ jobArn: job.jobArn }],
    });
    await expect(promise).resolves.toEqual({
      result: 'associated',
      jobArn: job.jobArn,
      thingGroupArn: groupArn,
      calls: 2,
      looks: 0,
    });
    expect(fake.calls[1]).toEqual({
      operation: 'AssociateTargetsWithJob',
      input: {
        targets: [groupArn],
        jobId: 'site-maintenance',
        namespaceId: 'acme-ops',
        comment: 'ggjobs enroll: thing core-1',
      },
    });
  });

  it('makes no write call when the group is already a target', async () => {
    const { fake, promise } = run({ DescribeJob: [{ job: { ...job, targets: [groupArn] } }] });
    await expect(promise).resolves.toMatchObject({ result: 'already-associated', calls: 1 });
    expect(fake.count('AssociateTargetsWithJob')).toBe(0);
  });

  it('resolves a lost race (LimitExceeded, then the group is a target) as already-associated', async () => {
    const { fake, promise } = run({
      DescribeJob: [{ job }, { job: { ...job, targets: [groupArn] } }],
      AssociateTargetsWithJob: [awsError('LimitExceededException', 410)],
    });
    await expect(promise).resolves.toMatchObject({ result: 'already-associated', calls: 3 });
    expect(fake.count('AssociateTargetsWithJob')).toBe(1);
  });

  it('resolves a lost race (InvalidRequest, then the group is a target) as already-associated', async () => {
    const { promise } = run({
      DescribeJob: [{ job }, { job: { ...job, targets: [groupArn] } }],
      AssociateTargetsWithJob: [awsError('InvalidRequestException', 400)],
    });
    await expect(promise).resolves.toMatchObject({ result: 'already-associated' });
  });

  it('fails with JobTargetsFullError when the last slot went to another group, never retrying LimitExceeded', async () => {
    const others = Array.from(
      { length: 99 },
      (_, i) => `arn:aws:iot:us-east-1:123456789012:thinggroup/o${i}`,
    );
    const { fake, promise } = run({
      DescribeJob: [{ job: { ...job, targets: others } }, { job: { ...job, targets: [...others, 'x'] } }],
      AssociateTargetsWithJob: [awsError('LimitExceededException', 410)],
    });
    const err = await promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobTargetsFullError);
    expect(fake.count('AssociateTargetsWithJob')).toBe(1);
  });

  it('keeps the LimitExceeded cause when the job looks usable on the second look', async () => {
    const { promise } = run({
      DescribeJob: [{ job }],
      AssociateTargetsWithJob: [awsError('LimitExceededException', 410, 'too many targets')],
    });
    const err = await promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobTargetsFullError);
    expect((err as Error).message).toContain('LimitExceededException: too many targets');
    expect((err as Error).message).toContain('job "site-maintenance" (namespace "acme-ops")');
  });

  it('reports the job change found on the second look (cancelled meanwhile)', async () => {
    const { promise } = run({
      DescribeJob: [{ job }, { job: { ...job, status: 'CANCELED' } }],
      AssociateTargetsWithJob: [awsError('InvalidRequestException', 400)],
    });
    await expect(promise).rejects.toBeInstanceOf(JobNotInProgressError);
  });

  it('turns an unexplained InvalidRequest into AssociationRefusedError with the service message', async () => {
    const { promise } = run({
      DescribeJob: [{ job }],
      AssociateTargetsWithJob: [awsError('InvalidRequestException', 400, 'Something about the request')],
    });
    const err = await promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AssociationRefusedError);
    expect((err as Error).message).toContain('InvalidRequestException: Something about the request');
    expect((err as Error).message).toContain('thing group "site-a"');
  });

  it('tells a deleted job from a missing group after ResourceNotFound on associate', async () => {
    const gone = run({
      DescribeJob: [{ job }, awsError('ResourceNotFoundException', 404)],
      AssociateTargetsWithJob: [awsError('ResourceNotFoundException', 404)],
    });
    await expect(gone.promise).rejects.toBeInstanceOf(JobNotFoundError);
    const noGroup = run({
      DescribeJob: [{ job }],
      AssociateTargetsWithJob: [
        awsError('ResourceNotFoundException', 404, 'Thing group site-a cannot be found.'),
      ],
    });
    await expect(noGroup.promise).rejects.toBeInstanceOf(ThingGroupNotFoundError);
  });

  it('retries a throttled associate and succeeds', async () => {
    const throttled = awsError('ThrottlingException', 400);
    const { fake, promise } = run({
      DescribeJob: [{ job }],
      AssociateTargetsWithJob: [throttled, throttled, { jobArn: job.jobArn }],
    });
    await expect(promise).resolves.toMatchObject({ result: 'associated', calls: 4 });
    expect(fake.count('AssociateTargetsWithJob')).toBe(3);
  });

  it('reports access denied as ControlPlaneAccessDeniedError naming the IAM action', async () => {
    const { promise } = run({ DescribeJob: [awsError('AccessDeniedException', 403, 'not authorized')] });
    const err = await promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlPlaneAccessDeniedError);
    expect((err as Error).message).toContain('iot:DescribeJob');
  });
});
