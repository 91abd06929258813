import { describe, expect, it } from 'vitest';
import {
  gateOperation,
  notificationTopics,
  parseJobsTopic,
  replyTopic,
} from '../../src/local/data-plane/topics.js';

describe('parseJobsTopic', () => {
  it('maps the default-namespace request topics to their operations', () => {
    expect(parseJobsTopic('$aws/things/dev-1/jobs/get')).toEqual({
      kind: 'request',
      operation: 'GetPendingJobExecutions',
      thingName: 'dev-1',
    });
    expect(parseJobsTopic('$aws/things/dev-1/jobs/start-next')).toEqual({
      kind: 'request',
      operation: 'StartNextPendingJobExecution',
      thingName: 'dev-1',
    });
    expect(parseJobsTopic('$aws/things/dev-1/jobs/job_7/get')).toEqual({
      kind: 'request',
      operation: 'DescribeJobExecution',
      thingName: 'dev-1',
      jobId: 'job_7',
    });
    expect(parseJobsTopic('$aws/things/dev-1/jobs/$next/get')).toMatchObject({
      operation: 'DescribeJobExecution',
      jobId: '$next',
    });
    expect(parseJobsTopic('$aws/things/dev-1/jobs/job_7/update')).toEqual({
      kind: 'request',
      operation: 'UpdateJobExecution',
      thingName: 'dev-1',
      jobId: 'job_7',
    });
  });

  it('maps the namespaced describe and update topics, with the namespace', () => {
    expect(parseJobsTopic('$aws/things/core:1/jobs/$next/namespace-ops/get')).toEqual({
      kind: 'request',
      operation: 'DescribeJobExecution',
      thingName: 'core:1',
      jobId: '$next',
      namespaceId: 'ops',
    });
    expect(parseJobsTopic('$aws/things/core:1/jobs/j1/namespace-ops/update')).toEqual({
      kind: 'request',
      operation: 'UpdateJobExecution',
      thingName: 'core:1',
      jobId: 'j1',
      namespaceId: 'ops',
    });
  });

  it('ignores replies, events and topics outside $aws/things/T/jobs/', () => {
    for (const topic of [
      '$aws/things/t/jobs/get/accepted',
      '$aws/things/t/jobs/j1/namespace-ops/update/rejected',
      '$aws/things/t/jobs/notify',
      '$aws/things/t/jobs/notify-next',
      '$aws/things/t/jobs/notify-namespace-ops',
      '$aws/things/t/jobs/notify-next-namespace-ops',
      '$aws/things/t/jobs/j1/notify-namespace-ops/',
      '$aws/things/t/shadow/get',
      'devices/t/jobs/get',
      '$aws/things/t/jobs',
    ]) {
      expect(parseJobsTopic(topic), topic).toEqual({ kind: 'ignored' });
    }
  });

  it('reports topics under $aws/things/T/jobs/ that map to no API as invalid, saying why', () => {
    const cases: [string, RegExp][] = [
      ['$aws/things/t/jobs/j1/delete', /no Jobs API/],
      ['$aws/things/t/jobs/$next/update', /job id '\$next'/],
      ['$aws/things/t/jobs/bad.id/get', /job id 'bad.id'/],
      ['$aws/things/t/jobs/j1/ns-ops/get', /namespace-NS/],
      ['$aws/things/t/jobs/j1/namespace-/get', /namespace-NS/],
      ['$aws/things/bad thing/jobs/get', /thing name/],
      ['$aws/things/t/jobs/', /no Jobs API/],
    ];
    for (const [topic, reason] of cases) {
      const parsed = parseJobsTopic(topic);
      expect(parsed.kind, topic).toBe('invalid');
      if (parsed.kind === 'invalid') expect(parsed.reason, topic).toMatch(reason);
    }
  });

  it('names replies and gate operations the way AWS and the request gate do', () => {
    expect(replyTopic('$aws/things/t/jobs/j/get', 'accepted')).toBe('$aws/things/t/jobs/j/get/accepted');
    expect(gateOperation('UpdateJobExecution')).toBe('data:UpdateJobExecution');
  });
});

describe('notificationTopics', () => {
  it('publishes only the per-job documented form for namespaced jobs in documented mode', () => {
    expect(notificationTopics('t', 'j1', 'ops', 'documented')).toEqual({
      executionsChanged: ['$aws/things/t/jobs/j1/notify-namespace-ops/'],
      nextChanged: [],
    });
  });

  it('publishes only the thing-level forms in observed mode', () => {
    expect(notificationTopics('t', 'j1', 'ops', 'observed')).toEqual({
      executionsChanged: ['$aws/things/t/jobs/notify-namespace-ops'],
      nextChanged: ['$aws/things/t/jobs/notify-next-namespace-ops'],
    });
  });

  it('publishes all three forms in both mode', () => {
    expect(notificationTopics('t', 'j1', 'ops', 'both')).toEqual({
      executionsChanged: [
        '$aws/things/t/jobs/j1/notify-namespace-ops/',
        '$aws/things/t/jobs/notify-namespace-ops',
      ],
      nextChanged: ['$aws/things/t/jobs/notify-next-namespace-ops'],
    });
  });

  it('always uses notify and notify-next for the default namespace', () => {
    for (const mode of ['documented', 'observed', 'both'] as const) {
      expect(notificationTopics('t', 'j1', undefined, mode)).toEqual({
        executionsChanged: ['$aws/things/t/jobs/notify'],
        nextChanged: ['$aws/things/t/jobs/notify-next'],
      });
    }
  });
});
