import { describe, expect, it } from 'vitest';
import {
  decideAssociation,
  groupNameFromArn,
  type JobFacts,
  MAX_CONTINUOUS_JOB_TARGETS,
} from '../../src/enroll/decide-association.js';
import {
  JobNamespaceMismatchError,
  JobNotContinuousError,
  JobNotInProgressError,
  JobTargetsFullError,
} from '../../src/errors.js';

const groupArn = 'arn:aws:iot:us-east-1:123456789012:thinggroup/site-a';
const otherArn = (i: number) => `arn:aws:iot:us-east-1:123456789012:thinggroup/other-${i}`;
const job: JobFacts = {
  jobId: 'site-maintenance',
  jobArn: 'arn:aws:iot:us-east-1:123456789012:job/site-maintenance',
  status: 'IN_PROGRESS',
  targetSelection: 'CONTINUOUS',
  targets: [otherArn(1)],
  namespaceId: 'acme-ops',
};

function refusal(facts: JobFacts): Error {
  try {
    decideAssociation(facts, groupArn, 'acme-ops');
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected decideAssociation to refuse');
}

describe('decideAssociation', () => {
  it('associates a group that is not a target of a usable job', () => {
    expect(decideAssociation(job, groupArn, 'acme-ops')).toBe('associate');
    expect(decideAssociation({ ...job, targets: undefined }, groupArn, 'acme-ops')).toBe('associate');
  });

  it('says already-associated when the group is a target, whatever else the job says', () => {
    expect(decideAssociation({ ...job, targets: [groupArn] }, groupArn, 'acme-ops')).toBe(
      'already-associated',
    );
    const full = Array.from({ length: 99 }, (_, i) => otherArn(i)).concat(groupArn);
    expect(decideAssociation({ ...job, targets: full, status: 'COMPLETED' }, groupArn, 'acme-ops')).toBe(
      'already-associated',
    );
  });

  it('refuses a snapshot job, naming job, namespace and group', () => {
    const err = refusal({ ...job, targetSelection: 'SNAPSHOT' });
    expect(err).toBeInstanceOf(JobNotContinuousError);
    expect(err.message).toContain('job "site-maintenance" (namespace "acme-ops") is a SNAPSHOT job');
    expect(err.message).toContain('thing group "site-a"');
    expect(err.message).toContain('CONTINUOUS');
  });

  it('refuses a job that is not in progress', () => {
    for (const status of ['CANCELED', 'COMPLETED', 'DELETION_IN_PROGRESS', 'SCHEDULED']) {
      const err = refusal({ ...job, status });
      expect(err).toBeInstanceOf(JobNotInProgressError);
      expect(err.message).toContain(`is ${status}, not IN_PROGRESS`);
      expect(err.message).toContain('thing group "site-a"');
    }
  });

  it(`refuses a job that already has ${MAX_CONTINUOUS_JOB_TARGETS} targets`, () => {
    const targets = Array.from({ length: MAX_CONTINUOUS_JOB_TARGETS }, (_, i) => otherArn(i));
    const err = refusal({ ...job, targets });
    expect(err).toBeInstanceOf(JobTargetsFullError);
    expect(err.message).toContain('already has 100 targets');
    expect(decideAssociation({ ...job, targets: targets.slice(1) }, groupArn, 'acme-ops')).toBe('associate');
  });

  it('refuses a job in another namespace (or none), even when the group is a target', () => {
    const other = refusal({ ...job, namespaceId: 'other-ns', targets: [groupArn] });
    expect(other).toBeInstanceOf(JobNamespaceMismatchError);
    expect(other.message).toContain('job "site-maintenance" is in namespace "other-ns"');
    expect(other.message).toContain('configured for namespace "acme-ops"');
    const none = refusal({ ...job, namespaceId: undefined });
    expect(none).toBeInstanceOf(JobNamespaceMismatchError);
    expect(none.message).toContain('is in no namespace');
  });
});

describe('groupNameFromArn', () => {
  it('takes the name after thinggroup/', () => {
    expect(groupNameFromArn(groupArn)).toBe('site-a');
    expect(groupNameFromArn('not-an-arn')).toBe('not-an-arn');
  });
});
