// enroll() with the real @aws-sdk/client-iot against the local AWS IoT stack.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enroll } from '../../src/enroll/enroll.js';
import {
  ControlPlaneUnavailableError,
  JobNamespaceMismatchError,
  JobNotContinuousError,
  JobNotFoundError,
  JobNotInProgressError,
  JobTargetsFullError,
  ThingGroupAmbiguousError,
  ThingGroupNotFoundError,
} from '../../src/errors.js';
import { type EnrollFixture, JOB_ID, startEnrollFixture } from './local-fixture.js';

describe('enroll against the local stack', () => {
  let fx: EnrollFixture;
  beforeEach(async () => {
    fx = await startEnrollFixture();
  });
  afterEach(async () => {
    await fx.close();
  });

  const run = (patch?: Record<string, unknown>) => enroll(fx.config(patch), { client: fx.deviceClient() });

  it('associates the named thing group with the continuous namespaced job', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID);
    const outcome = await run({ enroll: { thingGroupName: 'site-a' } });
    expect(outcome).toEqual({
      result: 'associated',
      jobArn: `arn:aws:iot:${fx.stack.region}:${fx.stack.accountId}:job/${JOB_ID}`,
      thingGroupArn: fx.groupArn('site-a'),
      calls: 3,
      looks: 0,
    });
    expect(await fx.jobTargets(JOB_ID)).toContain(fx.groupArn('site-a'));
    expect(fx.stack.requestCount('AssociateTargetsWithJob')).toBe(1);
  });

  it('builds its own client from the config when none is given (endpoint override, default credential chain)', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID);
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'local';
    process.env.AWS_SECRET_ACCESS_KEY = 'local';
    try {
      await expect(enroll(fx.config({ enroll: { thingGroupName: 'site-a' } }))).resolves.toMatchObject({
        result: 'associated',
      });
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  it('makes no AssociateTargetsWithJob call when the group is already a target', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID, { targets: [await fx.createGroup('site-a')] });
    const outcome = await run({ enroll: { thingGroupArn: fx.groupArn('site-a') } });
    expect(outcome).toMatchObject({ result: 'already-associated', calls: 1 });
    expect(fx.stack.requestCount('AssociateTargetsWithJob')).toBe(0);
    expect(fx.stack.requestCount('DescribeJob')).toBe(1);
  });

  it('resolves the group from the thing when it belongs to exactly one', async () => {
    await fx.createThing('core-1', ['site-b']);
    await fx.createJob(JOB_ID);
    await expect(run()).resolves.toMatchObject({
      result: 'associated',
      thingGroupArn: fx.groupArn('site-b'),
    });
    expect(fx.stack.requestCount('ListThingGroupsForThing')).toBe(1);
  });

  it('picks the group matching enroll.groupPattern among several', async () => {
    await fx.createThing('core-1', ['all-cores', 'site-c', 'eu-devices']);
    await fx.createJob(JOB_ID);
    await expect(run({ enroll: { groupPattern: '^site-' } })).resolves.toMatchObject({
      thingGroupArn: fx.groupArn('site-c'),
    });
  });

  it('refuses to guess among several groups', async () => {
    await fx.createThing('core-1', ['all-cores', 'site-c']);
    await fx.createJob(JOB_ID);
    const err = await run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThingGroupAmbiguousError);
    expect((err as Error).message).toMatch(/all-cores/);
    expect((err as Error).message).toMatch(/site-c/);
  });

  it('refuses a snapshot job', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID, { targetSelection: 'SNAPSHOT' });
    await expect(run({ enroll: { thingGroupName: 'site-a' } })).rejects.toBeInstanceOf(JobNotContinuousError);
    expect(fx.stack.requestCount('AssociateTargetsWithJob')).toBe(0);
  });

  it('refuses a cancelled job', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID);
    await fx.cancelJob(JOB_ID);
    const err = await run({ enroll: { thingGroupName: 'site-a' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobNotInProgressError);
    expect((err as Error).message).toContain('is CANCELED, not IN_PROGRESS');
    expect(fx.stack.requestCount('AssociateTargetsWithJob')).toBe(0);
  });

  it('refuses a job in another namespace or in none', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID, { namespaceId: 'other-ns' });
    await fx.createJob('plain-job', { namespaceId: null });
    await expect(run({ enroll: { thingGroupName: 'site-a' } })).rejects.toBeInstanceOf(
      JobNamespaceMismatchError,
    );
    await expect(run({ jobId: 'plain-job', enroll: { thingGroupName: 'site-a' } })).rejects.toBeInstanceOf(
      JobNamespaceMismatchError,
    );
    expect(fx.stack.requestCount('AssociateTargetsWithJob')).toBe(0);
  });

  it('reports a missing job, group or thing', async () => {
    await fx.createThing('core-1', ['site-a']);
    const noJob = await run({ enroll: { thingGroupName: 'site-a' } }).catch((e: unknown) => e);
    expect(noJob).toBeInstanceOf(JobNotFoundError);
    expect((noJob as Error).message).toContain(`job "${JOB_ID}" not found`);
    await fx.createJob(JOB_ID);
    const noGroup = await run({ enroll: { thingGroupName: 'nope' } }).catch((e: unknown) => e);
    expect(noGroup).toBeInstanceOf(ThingGroupNotFoundError);
    expect((noGroup as Error).message).toContain('thing group "nope"');
    const noGroupArn = await run({ enroll: { thingGroupArn: fx.groupArn('nope') } }).catch((e: unknown) => e);
    expect(noGroupArn).toBeInstanceOf(ThingGroupNotFoundError);
    await expect(run({ thingName: 'ghost' })).rejects.toBeInstanceOf(ThingGroupNotFoundError);
  });

  it('fills the job up to 100 targets, then refuses the next group without a write call', async () => {
    const seed = await Promise.all(Array.from({ length: 99 }, (_, i) => fx.createGroup(`g${i}`)));
    await fx.createJob(JOB_ID, { targets: seed });
    await fx.createThing('core-1', ['site-100']);
    await fx.createThing('core-2', ['site-101']);
    await expect(run({ enroll: { thingGroupName: 'site-100' } })).resolves.toMatchObject({
      result: 'associated',
    });
    expect(await fx.jobTargets(JOB_ID)).toHaveLength(100);
    const err = await run({ thingName: 'core-2', enroll: { thingGroupName: 'site-101' } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(JobTargetsFullError);
    expect(fx.stack.requestCount('AssociateTargetsWithJob')).toBe(1);
  });

  it('rides out a throttling storm on DescribeJob and AssociateTargetsWithJob', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID);
    fx.stack.setRateLimit('DescribeJob', { ratePerSecond: 20, burst: 1 });
    fx.stack.setRateLimit('AssociateTargetsWithJob', { ratePerSecond: 20, burst: 1 });
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, () =>
        run({ enroll: { thingGroupName: 'site-a', retry: { maxAttempts: 100 } } }),
      ),
    );
    expect(outcomes.every((o) => o.result === 'associated' || o.result === 'already-associated')).toBe(true);
    // Throttled requests were answered and retried: more DescribeJob requests than enrollers.
    expect(fx.stack.requestCount('DescribeJob')).toBeGreaterThan(12);
    fx.stack.setRateLimit('DescribeJob', undefined);
    expect((await fx.jobTargets(JOB_ID)).filter((t) => t === fx.groupArn('site-a'))).toHaveLength(1);
  });

  it('gives up with ControlPlaneUnavailableError when still throttled after maxAttempts', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID);
    fx.stack.setRateLimit('DescribeJob', { ratePerSecond: 0 });
    const err = await run({ enroll: { thingGroupName: 'site-a', retry: { maxAttempts: 4 } } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ControlPlaneUnavailableError);
    expect((err as Error).message).toContain(
      'DescribeJob (job "site-maintenance") still failing after 4 attempts',
    );
    expect((err as Error).message).toContain('ThrottlingException');
    expect(fx.stack.requestCount('DescribeJob')).toBe(4);
    expect(fx.stack.requestCount('AssociateTargetsWithJob')).toBe(0);
  });

  it('two hundred concurrent enrollers in twenty groups: all succeed, each group is a target once', async () => {
    const groups = Array.from({ length: 20 }, (_, i) => `site-${i}`);
    await fx.createJob(JOB_ID);
    for (const group of groups) await fx.createGroup(group);
    await Promise.all(Array.from({ length: 200 }, (_, d) => fx.createThing(`core-${d}`, [groups[d % 20]!])));
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, d) =>
        run({ thingName: `core-${d}`, enroll: { retry: { maxAttempts: 50 } } }),
      ),
    );
    expect(outcomes).toHaveLength(200);
    for (let d = 0; d < 200; d++) expect(outcomes[d]!.thingGroupArn).toBe(fx.groupArn(groups[d % 20]!));
    const targets = await fx.jobTargets(JOB_ID);
    for (const group of groups) expect(targets.filter((t) => t === fx.groupArn(group))).toHaveLength(1);
    expect(targets).toHaveLength(21); // the 20 groups and the job's seed group
    const associateCalls = fx.stack.requestCount('AssociateTargetsWithJob');
    expect(associateCalls).toBeGreaterThanOrEqual(20);
    expect(associateCalls).toBeLessThanOrEqual(200);
  });
});
