import { describe, expect, it } from 'vitest';
import { deviceMayTransition, statusDetailsProblem } from '../../src/local/execution-rules.js';
import {
  DataPlaneError,
  type ExecutionChangedEvent,
  LocalStore,
  type ServiceError,
} from '../../src/local/store.js';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const groupArn = (name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:thinggroup/${name}`;
const thingArn = (name: string) => `arn:aws:iot:${REGION}:${ACCOUNT}:thing/${name}`;

function setup() {
  let nowMs = 1_700_000_000_000;
  const store = new LocalStore({ region: REGION, accountId: ACCOUNT, now: () => nowMs });
  const events: ExecutionChangedEvent[] = [];
  store.on('execution-changed', (event) => events.push(event));
  return {
    store,
    events,
    advance: (ms: number) => {
      nowMs += ms;
    },
    seconds: () => Math.floor(nowMs / 1000),
  };
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}

function withGroup(store: LocalStore, group: string, things: string[]) {
  store.createThingGroup({ thingGroupName: group });
  for (const thing of things) {
    store.createThing({ thingName: thing });
    store.addThingToThingGroup(thing, group);
  }
}

describe('LocalStore executions', () => {
  it('queues one execution per thing of a snapshot job, numbered per job from 1, in epoch seconds', () => {
    const { store, events, seconds } = setup();
    withGroup(store, 'g', ['t1', 't2']);
    store.createJob({ jobId: 'j', document: '{}', targets: [groupArn('g')] });
    const executions = store.listExecutionsForJob('j');
    expect(executions.map((e) => [e.thingName, e.executionNumber, e.versionNumber, e.status])).toEqual([
      ['t1', 1, 1, 'QUEUED'],
      ['t2', 2, 1, 'QUEUED'],
    ]);
    expect(executions[0]!.queuedAt).toBe(seconds());
    expect(events).toEqual([
      { thingName: 't1', jobId: 'j' },
      { thingName: 't2', jobId: 'j' },
    ]);
    expect(store.describeJob('j').targetSelection).toBe('SNAPSHOT');
  });

  it('walks QUEUED -> IN_PROGRESS -> SUCCEEDED, bumping versionNumber, and completes a snapshot job', () => {
    const { store, events, advance, seconds } = setup();
    store.createThing({ thingName: 't1' });
    store.createJob({ jobId: 'j', document: '{"a":1}', targets: [thingArn('t1')] });
    advance(5000);
    const started = store.updateExecution('t1', 'j', {
      status: 'IN_PROGRESS',
      statusDetails: { step: 'one' },
    });
    expect(started).toMatchObject({ status: 'IN_PROGRESS', versionNumber: 2, startedAt: seconds() });
    expect(started.statusDetails).toEqual({ step: 'one' });
    expect(store.describeJob('j').status).toBe('IN_PROGRESS');
    const done = store.updateExecution('t1', 'j', { status: 'SUCCEEDED', expectedVersion: 2 });
    expect(done).toMatchObject({ status: 'SUCCEEDED', versionNumber: 3, statusDetails: { step: 'one' } });
    expect(store.describeJob('j').status).toBe('COMPLETED');
    expect(store.jobProcessDetails('j')).toMatchObject({
      numberOfSucceededThings: 1,
      numberOfQueuedThings: 0,
    });
    expect(events.length).toBe(3);
    // the control plane still shows a terminal execution; the data plane answers TerminalStateReached
    expect(store.describeJobExecution('t1', 'j').status).toBe('SUCCEEDED');
    expect((catchError(() => store.describeExecution('t1', 'j')) as DataPlaneError).code).toBe(
      'TerminalStateReached',
    );
  });

  it('refuses bad transitions, stale versions and bad statusDetails with the Jobs error codes', () => {
    const { store } = setup();
    store.createThing({ thingName: 't1' });
    store.createJob({ jobId: 'j', document: '{}', targets: [thingArn('t1')] });
    const skip = catchError(() =>
      store.updateExecution('t1', 'j', { status: 'SUCCEEDED' }),
    ) as DataPlaneError;
    expect(skip).toBeInstanceOf(DataPlaneError);
    expect(skip.code).toBe('InvalidStateTransition');
    expect(skip.executionState).toEqual({ status: 'QUEUED', statusDetails: {}, versionNumber: 1 });
    const stale = catchError(() =>
      store.updateExecution('t1', 'j', { status: 'IN_PROGRESS', expectedVersion: 7 }),
    ) as DataPlaneError;
    expect(stale.code).toBe('VersionMismatch');
    expect(stale.executionState?.versionNumber).toBe(1);
    const bad = catchError(() =>
      store.updateExecution('t1', 'j', { status: 'IN_PROGRESS', statusDetails: { 'bad key': 'x' } }),
    ) as DataPlaneError;
    expect(bad.code).toBe('InvalidRequest');
    const unknown = catchError(() => store.updateExecution('t1', 'j', { status: 'DONE' })) as DataPlaneError;
    expect(unknown.code).toBe('InvalidRequest');
    const missing = catchError(() =>
      store.updateExecution('t1', 'nope', { status: 'IN_PROGRESS' }),
    ) as DataPlaneError;
    expect(missing.code).toBe('ResourceNotFound');
    store.updateExecution('t1', 'j', { status: 'REJECTED' });
    const afterTerminal = catchError(() =>
      store.updateExecution('t1', 'j', { status: 'IN_PROGRESS' }),
    ) as DataPlaneError;
    expect(afterTerminal.code).toBe('InvalidStateTransition');
    expect(afterTerminal.executionState?.status).toBe('REJECTED');
  });

  it('keeps namespaces apart on the data plane', () => {
    const { store, events } = setup();
    store.createThing({ thingName: 't1' });
    store.createJob({ jobId: 'plain', document: '{}', targets: [thingArn('t1')] });
    store.createJob({ jobId: 'ns', document: '{}', targets: [thingArn('t1')], namespaceId: 'gg' });
    expect(events.at(-1)).toEqual({ thingName: 't1', jobId: 'ns', namespaceId: 'gg' });
    expect(store.pendingExecutions('t1').queued.map((e) => e.jobId)).toEqual(['plain']);
    expect(store.pendingExecutions('t1', 'gg').queued.map((e) => e.jobId)).toEqual(['ns']);
    expect(store.jobNamespace('ns')).toBe('gg');
    expect((catchError(() => store.describeExecution('t1', 'ns')) as DataPlaneError).code).toBe(
      'ResourceNotFound',
    );
    expect(store.describeExecution('t1', 'ns', { namespaceId: 'gg' }).jobId).toBe('ns');
  });

  it('orders pending executions IN_PROGRESS first, then QUEUED oldest first, and starts the next', () => {
    const { store, advance } = setup();
    store.createThing({ thingName: 't1' });
    store.createJob({ jobId: 'a', document: '{}', targets: [thingArn('t1')] });
    advance(1000);
    store.createJob({ jobId: 'b', document: '{}', targets: [thingArn('t1')] });
    advance(1000);
    store.createJob({ jobId: 'c', document: '{}', targets: [thingArn('t1')] });
    expect(store.nextPendingExecution('t1')?.jobId).toBe('a');
    store.updateExecution('t1', 'b', { status: 'IN_PROGRESS' });
    expect(store.nextPendingExecution('t1')?.jobId).toBe('b');
    // start-next returns the IN_PROGRESS one unchanged
    expect(store.startNextPendingExecution('t1')).toMatchObject({ jobId: 'b', versionNumber: 2 });
    store.updateExecution('t1', 'b', { status: 'FAILED' });
    const started = store.startNextPendingExecution('t1', undefined, { statusDetails: { by: 'start-next' } });
    expect(started).toMatchObject({ jobId: 'a', status: 'IN_PROGRESS', statusDetails: { by: 'start-next' } });
    const pending = store.pendingExecutions('t1');
    expect(pending.inProgress.map((e) => e.jobId)).toEqual(['a']);
    expect(pending.queued.map((e) => e.jobId)).toEqual(['c']);
    expect(store.startNextPendingExecution('nobody')).toBeUndefined();
  });

  it('expands continuous jobs to things added later and removes QUEUED executions of things that leave', () => {
    const { store, events } = setup();
    withGroup(store, 'g', ['t1']);
    store.createThing({ thingName: 't2' });
    store.createJob({ jobId: 'c', document: '{}', targets: [groupArn('g')], targetSelection: 'CONTINUOUS' });
    store.addThingToThingGroup('t2', 'g');
    expect(store.describeExecution('t2', 'c')).toMatchObject({ status: 'QUEUED', executionNumber: 2 });
    events.length = 0;
    store.removeThingFromThingGroup('t2', 'g');
    expect(store.describeJobExecution('t2', 'c')).toMatchObject({ status: 'REMOVED', versionNumber: 2 });
    expect(events).toEqual([{ thingName: 't2', jobId: 'c' }]);
    // back in the group: a new execution, because the removed one never ran
    store.addThingToThingGroup('t2', 'g');
    expect(store.describeExecution('t2', 'c')).toMatchObject({ status: 'QUEUED', executionNumber: 3 });
    expect(store.describeJob('c').status).toBe('IN_PROGRESS');
    // an IN_PROGRESS execution is left to the device
    store.updateExecution('t1', 'c', { status: 'IN_PROGRESS' });
    store.removeThingFromThingGroup('t1', 'g');
    expect(store.describeExecution('t1', 'c').status).toBe('IN_PROGRESS');
  });

  it('does not give snapshot jobs executions for things added later', () => {
    const { store } = setup();
    withGroup(store, 'g', ['t1']);
    store.createThing({ thingName: 't2' });
    store.createJob({ jobId: 's', document: '{}', targets: [groupArn('g')] });
    store.addThingToThingGroup('t2', 'g');
    expect(store.listExecutionsForThing('t2')).toEqual([]);
  });

  it('reaches things of child groups', () => {
    const { store } = setup();
    store.createThingGroup({ thingGroupName: 'parent' });
    store.createThingGroup({ thingGroupName: 'child', parentGroupName: 'parent' });
    store.createThing({ thingName: 't1' });
    store.createJob({
      jobId: 'c',
      document: '{}',
      targets: [groupArn('parent')],
      targetSelection: 'CONTINUOUS',
    });
    store.addThingToThingGroup('t1', 'child');
    expect(store.describeExecution('t1', 'c').status).toBe('QUEUED');
    expect(store.describeThingGroup('child').rootToParentThingGroups.map((g) => g.thingGroupName)).toEqual([
      'parent',
    ]);
  });

  it('cancels jobs: QUEUED always, IN_PROGRESS only with force', () => {
    const { store } = setup();
    withGroup(store, 'g', ['t1', 't2']);
    store.createJob({ jobId: 'j', document: '{}', targets: [groupArn('g')] });
    store.updateExecution('t1', 'j', { status: 'IN_PROGRESS' });
    store.cancelJob('j', { comment: 'stop' });
    expect(store.describeJob('j')).toMatchObject({
      status: 'CANCELED',
      forceCanceled: false,
      comment: 'stop',
    });
    expect(store.describeExecution('t1', 'j').status).toBe('IN_PROGRESS');
    expect(store.describeJobExecution('t2', 'j').status).toBe('CANCELED');
    store.cancelJob('j', { force: true });
    expect(store.describeJobExecution('t1', 'j')).toMatchObject({ status: 'CANCELED', forceCanceled: true });
    const late = catchError(() =>
      store.updateExecution('t1', 'j', { status: 'SUCCEEDED' }),
    ) as DataPlaneError;
    expect(late.code).toBe('InvalidStateTransition');
  });

  it('cancels one execution with the force rule and version check', () => {
    const { store } = setup();
    store.createThing({ thingName: 't1' });
    store.createJob({ jobId: 'j', document: '{}', targets: [thingArn('t1')] });
    store.updateExecution('t1', 'j', { status: 'IN_PROGRESS' });
    const noForce = catchError(() => store.cancelJobExecution('t1', 'j')) as ServiceError;
    expect(noForce.errorType).toBe('InvalidStateTransitionException');
    const stale = catchError(() => store.cancelJobExecution('t1', 'j', { force: true, expectedVersion: 1 }));
    expect((stale as ServiceError).errorType).toBe('VersionConflictException');
    store.cancelJobExecution('t1', 'j', { force: true, expectedVersion: 2 });
    expect(store.describeJobExecution('t1', 'j')).toMatchObject({ status: 'CANCELED', forceCanceled: true });
    const again = catchError(() => store.cancelJobExecution('t1', 'j', { force: true })) as ServiceError;
    expect(again.errorType).toBe('InvalidStateTransitionException');
  });

  it('deletes jobs only with force while IN_PROGRESS and drops their pending executions', () => {
    const { store, events } = setup();
    store.createThing({ thingName: 't1' });
    store.createJob({ jobId: 'j', document: '{}', targets: [thingArn('t1')] });
    expect((catchError(() => store.deleteJob('j')) as ServiceError).errorType).toBe(
      'InvalidStateTransitionException',
    );
    events.length = 0;
    store.deleteJob('j', { force: true });
    expect(events).toEqual([{ thingName: 't1', jobId: 'j' }]);
    expect(store.pendingExecutions('t1').queued).toEqual([]);
    expect((catchError(() => store.describeJob('j')) as ServiceError).errorType).toBe(
      'ResourceNotFoundException',
    );
  });

  it('associates targets with a continuous job only, idempotently, up to 100', () => {
    const { store } = setup();
    withGroup(store, 'g1', ['t1']);
    withGroup(store, 'g2', ['t2']);
    store.createThingGroup({ thingGroupName: 'g3' });
    store.createJob({ jobId: 'snap', document: '{}', targets: [groupArn('g1')] });
    const notContinuous = catchError(() =>
      store.associateTargetsWithJob('snap', [groupArn('g2')]),
    ) as ServiceError;
    expect(notContinuous.errorType).toBe('InvalidRequestException');
    store.createJob({
      jobId: 'c',
      document: '{}',
      targets: [groupArn('g1')],
      targetSelection: 'CONTINUOUS',
      namespaceId: 'gg',
    });
    const wrongNs = catchError(() =>
      store.associateTargetsWithJob('c', [groupArn('g2')], { namespaceId: 'other' }),
    ) as ServiceError;
    expect(wrongNs.errorType).toBe('InvalidRequestException');
    store.associateTargetsWithJob('c', [groupArn('g2')], { namespaceId: 'gg', comment: 'enroll' });
    store.associateTargetsWithJob('c', [groupArn('g2')], { namespaceId: 'gg' });
    expect(store.describeJob('c').targets).toEqual([groupArn('g1'), groupArn('g2')]);
    expect(store.describeJob('c').associations.map((a) => a.namespaceId)).toEqual(['gg', 'gg']);
    expect(store.listExecutionsForThing('t2').map((e) => e.jobId)).toEqual(['c']);
    const unknown = catchError(() => store.associateTargetsWithJob('c', [groupArn('nope')])) as ServiceError;
    expect(unknown.errorType).toBe('ResourceNotFoundException');
    const malformed = catchError(() => store.associateTargetsWithJob('c', ['not-an-arn'])) as ServiceError;
    expect(malformed.errorType).toBe('InvalidRequestException');
    for (let i = 0; i < 98; i += 1) store.createThingGroup({ thingGroupName: `many-${i}` });
    store.associateTargetsWithJob(
      'c',
      Array.from({ length: 98 }, (_, i) => groupArn(`many-${i}`)),
    );
    expect(store.describeJob('c').targets.length).toBe(100);
    const full = catchError(() => store.associateTargetsWithJob('c', [groupArn('g3')])) as ServiceError;
    expect(full.errorType).toBe('LimitExceededException');
    expect(full.httpStatus).toBe(410);
    store.cancelJob('c');
    const canceled = catchError(() => store.associateTargetsWithJob('c', [groupArn('g1')])) as ServiceError;
    expect(canceled.errorType).toBe('InvalidRequestException');
    expect(canceled.message).toContain('CANCELED');
  });
});

describe('execution rules', () => {
  it('lets a device move only along the documented transitions', () => {
    expect(deviceMayTransition('QUEUED', 'IN_PROGRESS')).toBe(true);
    expect(deviceMayTransition('QUEUED', 'REJECTED')).toBe(true);
    expect(deviceMayTransition('QUEUED', 'SUCCEEDED')).toBe(false);
    expect(deviceMayTransition('IN_PROGRESS', 'IN_PROGRESS')).toBe(true);
    expect(deviceMayTransition('IN_PROGRESS', 'FAILED')).toBe(true);
    expect(deviceMayTransition('IN_PROGRESS', 'CANCELED')).toBe(false);
    expect(deviceMayTransition('SUCCEEDED', 'IN_PROGRESS')).toBe(false);
    expect(deviceMayTransition('CANCELED', 'SUCCEEDED')).toBe(false);
  });

  it('checks statusDetails limits', () => {
    expect(statusDetailsProblem({ ok: 'fine', 'a:b_c-d': 'x' })).toBeUndefined();
    // Newline, carriage return and tab pass (the service accepts them); other control characters do not.
    expect(statusDetailsProblem({ stdout: 'line 1\r\nline 2\n\tindented\n' })).toBeUndefined();
    for (const bad of ['nul\u0000', 'bell\u0007', 'esc\u001b[0m', 'del\u007f', 'c1\u0085', 'zwsp\u200b']) {
      expect(statusDetailsProblem({ k: bad }), JSON.stringify(bad)).toMatch(/control characters/);
    }
    expect(statusDetailsProblem({ 'bad key': 'v' })).toMatch(/must match/);
    expect(statusDetailsProblem({ ['k'.repeat(129)]: 'v' })).toMatch(/must match/);
    expect(statusDetailsProblem({ k: '\n'.repeat(1024) })).toBeUndefined();
    expect(statusDetailsProblem({ k: '' })).toMatch(/1-1024/);
    expect(statusDetailsProblem({ k: 'x'.repeat(1025) })).toMatch(/1-1024/);
    expect(statusDetailsProblem({ k: 5 })).toMatch(/must be a string/);
    expect(
      statusDetailsProblem(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']))),
    ).toMatch(/at most 10/);
    expect(statusDetailsProblem([])).toMatch(/object/);
  });
});
