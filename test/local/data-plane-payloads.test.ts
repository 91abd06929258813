import { describe, expect, it } from 'vitest';
import { decodePayload, validateRequest } from '../../src/local/data-plane/requests.js';
import {
  jobExecutionPayload,
  jobExecutionsChangedPayload,
  nextJobExecutionChangedPayload,
  rejectedPayload,
} from '../../src/local/data-plane/responses.js';
import type { Execution } from '../../src/local/store.js';

function execution(jobId: string, status: Execution['status'], extra: Partial<Execution> = {}): Execution {
  return {
    jobId,
    thingName: 'dev-1',
    executionNumber: 1,
    versionNumber: 1,
    status,
    statusDetails: {},
    queuedAt: 1_700_000_000,
    lastUpdatedAt: 1_700_000_000,
    ...extra,
  };
}

describe('decodePayload', () => {
  it('accepts a JSON object and picks out a string clientToken', () => {
    expect(decodePayload(Buffer.from('{"clientToken":"abc","x":1}'))).toEqual({
      ok: true,
      value: { clientToken: 'abc', x: 1 },
      clientToken: 'abc',
    });
  });

  it('treats an empty payload as an empty request', () => {
    expect(decodePayload(Buffer.alloc(0))).toEqual({ ok: true, value: {} });
  });

  it('answers InvalidJson for text that is not JSON and for bytes that are not UTF-8', () => {
    for (const payload of [Buffer.from('{not json'), Buffer.from([0x7b, 0xff, 0xfe, 0x7d])]) {
      const decoded = decodePayload(payload);
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) expect(decoded.problem.code).toBe('InvalidJson');
    }
  });

  it('answers InvalidRequest for JSON that is not an object', () => {
    for (const text of ['[]', '42', '"x"', 'null', 'true']) {
      const decoded = decodePayload(Buffer.from(text));
      expect(decoded.ok, text).toBe(false);
      if (!decoded.ok)
        expect(decoded.problem).toEqual({
          code: 'InvalidRequest',
          message: 'the payload must be a JSON object',
        });
    }
  });
});

describe('validateRequest', () => {
  it('accepts a full update request and ignores unknown fields', () => {
    const result = validateRequest('UpdateJobExecution', {
      status: 'IN_PROGRESS',
      statusDetails: { step: 'download' },
      expectedVersion: 2,
      executionNumber: 1,
      includeJobExecutionState: true,
      includeJobDocument: false,
      stepTimeoutInMinutes: 5,
      clientToken: 'c1',
      somethingElse: 'ignored',
    });
    expect(result).toEqual({
      ok: true,
      request: {
        status: 'IN_PROGRESS',
        statusDetails: { step: 'download' },
        expectedVersion: 2,
        executionNumber: 1,
        includeJobExecutionState: true,
        includeJobDocument: false,
        stepTimeoutInMinutes: 5,
        clientToken: 'c1',
      },
    });
  });

  it('names the field that is wrong', () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['UpdateJobExecution', {}, /status is required/],
      ['UpdateJobExecution', { status: 'DONE' }, /status is required and must be one of/],
      [
        'UpdateJobExecution',
        { status: 'SUCCEEDED', expectedVersion: '3' },
        /expectedVersion must be a whole number/,
      ],
      [
        'UpdateJobExecution',
        { status: 'SUCCEEDED', statusDetails: { k: 7 } },
        /statusDetails\.k must be a string/,
      ],
      ['UpdateJobExecution', { status: 'SUCCEEDED', statusDetails: { k: 'a\u0000b' } }, /statusDetails\.k/],
      ['UpdateJobExecution', { status: 'SUCCEEDED', stepTimeoutInMinutes: 0 }, /stepTimeoutInMinutes/],
      ['DescribeJobExecution', { includeJobDocument: 'yes' }, /includeJobDocument must be true or false/],
      ['DescribeJobExecution', { executionNumber: 1.5 }, /executionNumber must be a whole number/],
      ['GetPendingJobExecutions', { clientToken: 5 }, /clientToken must be a string/],
    ];
    for (const [operation, payload, message] of cases) {
      const result = validateRequest(operation as 'UpdateJobExecution', payload);
      expect(result.ok, JSON.stringify(payload)).toBe(false);
      if (!result.ok) {
        expect(result.problem.code).toBe('InvalidRequest');
        expect(result.problem.message, JSON.stringify(payload)).toMatch(message);
      }
    }
  });
});

describe('response payloads', () => {
  it('builds a JobExecution with the parsed job document and without empty optional fields', () => {
    expect(jobExecutionPayload(execution('j1', 'QUEUED'), '{"steps":[1]}')).toEqual({
      jobId: 'j1',
      thingName: 'dev-1',
      status: 'QUEUED',
      queuedAt: 1_700_000_000,
      lastUpdatedAt: 1_700_000_000,
      versionNumber: 1,
      executionNumber: 1,
      jobDocument: { steps: [1] },
    });
    const started = execution('j1', 'IN_PROGRESS', { startedAt: 1_700_000_005, statusDetails: { s: 'x' } });
    expect(jobExecutionPayload(started)).toMatchObject({
      startedAt: 1_700_000_005,
      statusDetails: { s: 'x' },
    });
    expect(jobExecutionPayload(started)).not.toHaveProperty('jobDocument');
  });

  it('caps JobExecutionsChanged at 10 summaries, IN_PROGRESS first, and sends jobs: {} when empty', () => {
    const inProgress = [execution('a', 'IN_PROGRESS', { startedAt: 1_700_000_001 })];
    const queued = Array.from({ length: 12 }, (_, i) => execution(`q${i}`, 'QUEUED'));
    const payload = jobExecutionsChangedPayload({ inProgress, queued }, 1_700_000_100);
    expect(payload.timestamp).toBe(1_700_000_100);
    expect(payload.jobs.IN_PROGRESS?.map((s) => s.jobId)).toEqual(['a']);
    expect(payload.jobs.QUEUED?.map((s) => s.jobId)).toEqual([
      'q0',
      'q1',
      'q2',
      'q3',
      'q4',
      'q5',
      'q6',
      'q7',
      'q8',
    ]);
    expect(payload.jobs.IN_PROGRESS?.[0]).toEqual({
      jobId: 'a',
      queuedAt: 1_700_000_000,
      startedAt: 1_700_000_001,
      lastUpdatedAt: 1_700_000_000,
      versionNumber: 1,
      executionNumber: 1,
    });
    expect(jobExecutionsChangedPayload({ inProgress: [], queued: [] }, 5)).toEqual({
      timestamp: 5,
      jobs: {},
    });
  });

  it('leaves execution out of NextJobExecutionChanged when nothing is pending', () => {
    expect(nextJobExecutionChangedPayload(undefined, undefined, 9)).toEqual({ timestamp: 9 });
    expect(nextJobExecutionChangedPayload(execution('j', 'QUEUED'), '{}', 9).execution?.jobDocument).toEqual(
      {},
    );
  });

  it('includes executionState in a rejection only for InvalidStateTransition and VersionMismatch', () => {
    const state = { status: 'SUCCEEDED' as const, statusDetails: {}, versionNumber: 3 };
    expect(rejectedPayload('VersionMismatch', 'm', 1, 'tok', state)).toEqual({
      code: 'VersionMismatch',
      message: 'm',
      timestamp: 1,
      clientToken: 'tok',
      executionState: state,
    });
    expect(rejectedPayload('InvalidStateTransition', 'm', 1, undefined, state)).toHaveProperty(
      'executionState',
    );
    expect(rejectedPayload('TerminalStateReached', 'm', 1, undefined, state)).toEqual({
      code: 'TerminalStateReached',
      message: 'm',
      timestamp: 1,
    });
  });
});
