// What a notification calls for (a describe, an execution handed to decide(), or nothing), checked
// against what the agent knows: the pure part of "one describe per execution".
import { describe, expect, it } from 'vitest';
import { type ExecutionState, newExecutionState } from '../../src/jobs/decide.js';
import { holding } from '../../src/jobs/execution-queue.js';
import { notificationNeed } from '../../src/jobs/notification-decisions.js';
import { readNotification } from '../../src/jobs/notifications.js';

const JOB = 'job-a';
const DOC = { version: '1.0', steps: [] };
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));
const thing = (jobs: Record<string, unknown[]>) =>
  readNotification('thing', bytes({ timestamp: 1, jobs }), JOB);
const next = (execution?: Record<string, unknown>) =>
  readNotification('thingNext', bytes(execution ? { timestamp: 1, execution } : { timestamp: 1 }), JOB);
const states = (...list: ExecutionState[]) => new Map(list.map((s) => [s.executionNumber, s]));
const state = (n: number, fields: Partial<ExecutionState>): ExecutionState => ({
  ...newExecutionState(n),
  ...fields,
});
const need = (hint: ReturnType<typeof readNotification>, known = states()) =>
  notificationNeed(hint, known, holding);

describe('notificationNeed', () => {
  it('hands a queued execution notify-next carries whole to decide(), with no describe', () => {
    const hint = next({
      jobId: JOB,
      status: 'QUEUED',
      executionNumber: 3,
      versionNumber: 1,
      jobDocument: DOC,
    });
    expect(need(hint)).toEqual({
      described: [
        { executionNumber: 3, execution: { status: 'QUEUED', versionNumber: 1, jobDocument: DOC } },
      ],
      describe: false,
    });
  });

  it('describes a new execution a notification shows without its document', () => {
    const hint = thing({ QUEUED: [{ jobId: JOB, executionNumber: 3, versionNumber: 1 }] });
    expect(need(hint)).toEqual({ described: [], describe: true });
    const noDoc = next({ jobId: JOB, status: 'QUEUED', executionNumber: 3, versionNumber: 1 });
    expect(need(noDoc)).toEqual({ described: [], describe: true });
  });

  it('never acts on an unknown IN_PROGRESS execution from a notification: it describes', () => {
    const hint = next({
      jobId: JOB,
      status: 'IN_PROGRESS',
      executionNumber: 3,
      versionNumber: 2,
      jobDocument: DOC,
    });
    expect(need(hint)).toEqual({ described: [], describe: true });
  });

  it('needs nothing when the notification agrees with what the agent knows', () => {
    const claiming = state(3, { phase: 'claiming', versionNumber: 1, sending: true, claimId: 'c' });
    expect(
      need(thing({ QUEUED: [{ jobId: JOB, executionNumber: 3, versionNumber: 1 }] }), states(claiming)),
    ).toEqual({ described: [], describe: false });
    expect(
      need(thing({ IN_PROGRESS: [{ jobId: JOB, executionNumber: 3, versionNumber: 2 }] }), states(claiming)),
    ).toEqual({ described: [], describe: false });
    const running = state(3, { phase: 'started', running: true, versionNumber: 2 });
    expect(
      need(thing({ IN_PROGRESS: [{ jobId: JOB, executionNumber: 3, versionNumber: 2 }] }), states(running)),
    ).toEqual({ described: [], describe: false });
  });

  it('describes when a notification shows a known execution otherwise at its version or a newer one', () => {
    const reported = state(3, { phase: 'reported', versionNumber: 3 });
    const queuedAgain = thing({ QUEUED: [{ jobId: JOB, executionNumber: 3, versionNumber: 3 }] });
    expect(need(queuedAgain, states(reported)).describe).toBe(true);
    const nextAgain = next({
      jobId: JOB,
      status: 'QUEUED',
      executionNumber: 3,
      versionNumber: 4,
      jobDocument: DOC,
    });
    expect(need(nextAgain, states(reported))).toEqual({ described: [], describe: true });
    const running = state(3, { phase: 'started', running: true, versionNumber: 2 });
    const newer = thing({ IN_PROGRESS: [{ jobId: JOB, executionNumber: 3, versionNumber: 5 }] });
    expect(need(newer, states(running)).describe).toBe(true);
  });

  it('needs nothing for a notification older than what the agent knows (overtaken by its own update)', () => {
    // QUEUED v1 announced the execution; our claim's reply (v2) was decided before it was read.
    const started = state(3, { phase: 'started', running: true, versionNumber: 2 });
    const queued = thing({ QUEUED: [{ jobId: JOB, executionNumber: 3, versionNumber: 1 }] });
    expect(need(queued, states(started))).toEqual({ described: [], describe: false });
    const reported = state(3, { phase: 'reported', versionNumber: 3 });
    const inProgress = thing({ IN_PROGRESS: [{ jobId: JOB, executionNumber: 3, versionNumber: 2 }] });
    expect(need(inProgress, states(reported))).toEqual({ described: [], describe: false });
  });

  it('describes when an execution the agent holds is missing from the notification', () => {
    const running = state(3, { phase: 'started', running: true, versionNumber: 2 });
    expect(need(thing({}), states(running)).describe).toBe(true);
    expect(need(next(), states(running)).describe).toBe(true);
    expect(
      need(thing({ QUEUED: [{ jobId: 'other', executionNumber: 1, versionNumber: 1 }] }), states(running))
        .describe,
    ).toBe(true);
  });

  it("ignores other jobs' notifications when it holds nothing, and describes on a per-job body it cannot read", () => {
    expect(need(thing({ QUEUED: [{ jobId: 'other', executionNumber: 1, versionNumber: 1 }] }))).toEqual({
      described: [],
      describe: false,
    });
    expect(need(next())).toEqual({ described: [], describe: false });
    expect(need(readNotification('perJob', bytes({ anything: true }), JOB))).toEqual({
      described: [],
      describe: true,
    });
    expect(need(readNotification('perJob', bytes('nope'), JOB))).toEqual({ described: [], describe: false });
  });
});
