import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLAIM_ID_KEY } from '../../src/jobs/claim.js';
import {
  type Decision,
  decide,
  type ExecutionEvent,
  type ExecutionState,
  newExecutionState,
  recordFromState,
  stateFromRecord,
} from '../../src/jobs/decide.js';

const NOW = '2025-01-01T00:00:00.000Z';
/** The claim id this agent draws for its claim in these tests. */
const CLAIM = 'claim-ours';
const doc = { steps: [] };

function run(state: ExecutionState, ...events: ExecutionEvent[]): Decision {
  let d: Decision = { state, actions: [] };
  for (const e of events) d = decide(d.state, e, NOW);
  return d;
}

const types = (d: Decision) => d.actions.filter((a) => a.type !== 'log').map((a) => a.type);
const queued = (versionNumber = 1, canStart = true): ExecutionEvent => ({
  type: 'described',
  execution: { status: 'QUEUED', versionNumber, jobDocument: doc },
  canStart,
  claimId: CLAIM,
});
const described = (status: string, versionNumber = 2, claimId = CLAIM): ExecutionEvent => ({
  type: 'described',
  execution: { status, versionNumber, jobDocument: doc, statusDetails: { [CLAIM_ID_KEY]: claimId } },
  canStart: true,
});
const step = (index: number, resumable = false): ExecutionEvent => ({
  type: 'stepStarted',
  step: { index, name: `step-${index}`, resumable },
});

/** A state that is running, as after claimAccepted. */
function running(): ExecutionState {
  return run(newExecutionState(7), queued(1), {
    type: 'claimAccepted',
    versionNumber: 2,
    claimId: CLAIM,
    canStart: true,
  }).state;
}

/** The same state as the journal gives it back after a restart. */
function restarted(state: ExecutionState): ExecutionState {
  return stateFromRecord(recordFromState(state)!);
}

describe('decide: claiming a queued execution', () => {
  it('journals the claim, then asks for IN_PROGRESS with the version it saw', () => {
    const d = run(newExecutionState(7), queued(3));
    expect(d.state.phase).toBe('claiming');
    expect(d.actions.filter((a) => a.type !== 'log')).toEqual([
      { type: 'persist' },
      { type: 'claim', expectedVersion: 3 },
    ]);
  });

  it('waits while another execution runs or the agent stops', () => {
    const d = run(newExecutionState(7), queued(1, false));
    expect(d.state.phase).toBe('new');
    expect(types(d)).toEqual([]);
  });

  it('journals started before running the document', () => {
    const d = run(newExecutionState(7), queued(1), {
      type: 'claimAccepted',
      versionNumber: 2,
      claimId: CLAIM,
      canStart: true,
    });
    expect(d.state).toMatchObject({ phase: 'started', running: true, versionNumber: 2, startedAt: NOW });
    expect(d.actions).toEqual([{ type: 'persist' }, { type: 'run', document: doc }]);
  });

  it('does not send a second claim while one is in flight', () => {
    const d = run(newExecutionState(7), queued(1), queued(1));
    expect(types(d)).toEqual([]);
  });

  it('describes again on VersionMismatch and starts when the describe shows its claim landed', () => {
    const s = run(newExecutionState(7), queued(1)).state;
    const mismatch = decide(s, { type: 'claimRejected', code: 'VersionMismatch' }, NOW);
    expect(types(mismatch)).toEqual(['describe']);
    const landed = decide(mismatch.state, described('IN_PROGRESS', 2), NOW);
    expect(landed.state.phase).toBe('started');
    expect(types(landed)).toEqual(['persist', 'run']);
  });

  it('claims again with the new version when the describe still shows QUEUED', () => {
    const s = run(newExecutionState(7), queued(1), { type: 'claimRejected', code: 'VersionMismatch' }).state;
    expect(decide(s, queued(4), NOW).actions.filter((a) => a.type === 'claim')).toEqual([
      { type: 'claim', expectedVersion: 4 },
    ]);
  });

  it('gives up the claim when the execution is cancelled before it started', () => {
    const d = run(newExecutionState(7), queued(1), described('CANCELED', 2));
    expect(d.state.phase).toBe('cancelled');
    expect(types(d)).toEqual(['persist']);
  });

  it('retries an unanswered claim later through a describe', () => {
    const d = run(newExecutionState(7), queued(1), { type: 'claimFailed', error: 'timeout' });
    expect(types(d)).toEqual(['retryLater']);
    expect(types(decide(d.state, { type: 'retryDue' }, NOW))).toEqual(['describe']);
  });
});

describe('decide: running and reporting', () => {
  it('journals each step before it runs', () => {
    const d = decide(running(), step(0, true), NOW);
    expect(d.state.lastStep).toEqual({ index: 0, name: 'step-0', resumable: true, startedAt: NOW });
    expect(types(d)).toEqual(['persist']);
  });

  it('journals a non-resumable first step with started, and nothing more when that step starts', () => {
    const first = { index: 0, name: 'step-0', resumable: false };
    const claimed = run(newExecutionState(7), queued(1), {
      type: 'claimAccepted',
      versionNumber: 2,
      claimId: CLAIM,
      canStart: true,
      firstStep: first,
    });
    expect(claimed.actions).toEqual([{ type: 'persist' }, { type: 'run', document: doc }]);
    expect(recordFromState(claimed.state)).toMatchObject({
      phase: 'started',
      lastStep: { ...first, startedAt: NOW },
    });
    const stepped = decide(claimed.state, step(0), NOW);
    expect(types(stepped)).toEqual([]);
    expect(recordFromState(stepped.state)).toEqual(recordFromState(claimed.state));
    // The next step is journaled as always.
    expect(types(decide(stepped.state, step(1), NOW))).toEqual(['persist']);
    // Killed during the announced step: recovery names it, as its own record would have.
    const recovered = decide(restarted(claimed.state), { type: 'recovered' }, NOW);
    expect(recovered.state.outcome?.statusDetails).toMatchObject({ reason: 'interrupted', step: 'step-0' });
  });

  it('never announces a resumable first step: it is journaled when it really starts', () => {
    const d = run(newExecutionState(7), queued(1), {
      type: 'claimAccepted',
      versionNumber: 2,
      claimId: CLAIM,
      canStart: true,
      firstStep: { index: 0, name: 'step-0', resumable: true },
    });
    expect(d.state.lastStep).toBeUndefined();
    expect(types(decide(d.state, step(0, true), NOW))).toEqual(['persist']);
  });

  it('drops the announced step from the record of a run that ended before it (a REJECTED document)', () => {
    const claimed = run(newExecutionState(7), queued(1), {
      type: 'claimAccepted',
      versionNumber: 2,
      claimId: CLAIM,
      canStart: true,
      firstStep: { index: 0, name: 'step-0', resumable: false },
    });
    const d = decide(
      claimed.state,
      { type: 'runSettled', outcome: { status: 'REJECTED', statusDetails: { reason: 'bad' } } },
      NOW,
    );
    expect(recordFromState(d.state)).toMatchObject({ phase: 'finished' });
    expect(recordFromState(d.state)?.lastStep).toBeUndefined();
  });

  it('puts the sanitized outcome in the outbox before sending it', () => {
    const d = decide(
      running(),
      {
        type: 'runSettled',
        outcome: { status: 'SUCCEEDED', statusDetails: { reason: 'done\nok', 'bad key': 'v' } },
      },
      NOW,
    );
    expect(d.state).toMatchObject({
      phase: 'finished',
      running: false,
      outcome: { status: 'SUCCEEDED', statusDetails: { reason: 'done ok', bad_key: 'v' } },
    });
    expect(types(d)).toEqual(['persist', 'sendStatus']);
  });

  it('reports REJECTED outcomes as they are', () => {
    const d = decide(
      running(),
      { type: 'runSettled', outcome: { status: 'REJECTED', statusDetails: { reason: 'bad document' } } },
      NOW,
    );
    expect(d.state.outcome).toEqual({ status: 'REJECTED', statusDetails: { reason: 'bad document' } });
  });

  it('reports FAILED runner-error when the runner throws', () => {
    const d = decide(running(), { type: 'runSettled', error: 'TypeError: x is undefined' }, NOW);
    expect(d.state.outcome).toEqual({
      status: 'FAILED',
      statusDetails: { reason: 'runner-error', message: 'TypeError: x is undefined' },
    });
  });

  it('marks the execution reported when the status is accepted', () => {
    const s = run(running(), {
      type: 'runSettled',
      outcome: { status: 'SUCCEEDED', statusDetails: {} },
    }).state;
    const d = decide(s, { type: 'statusAccepted' }, NOW);
    expect(d.state).toMatchObject({ phase: 'reported', closedAt: NOW });
    expect(types(d)).toEqual(['persist']);
  });
});

describe('decide: cancellation', () => {
  it.each(['CANCELED', 'REMOVED', 'TIMED_OUT'])(
    'aborts a running job when the service shows %s',
    (status) => {
      const d = decide(running(), described(status, 3), NOW);
      expect(d.state.phase).toBe('cancelled');
      expect(d.actions[0]).toEqual({ type: 'abort', reason: 'cancelled' });
      expect(types(d)).toEqual(['abort', 'persist']);
    },
  );

  it.each(['TerminalStateReached', 'ResourceNotFound'])('aborts a running job on describe %s', (code) => {
    const d = decide(running(), { type: 'describeRejected', code }, NOW);
    expect(d.state.phase).toBe('cancelled');
    expect(types(d)).toContain('abort');
  });

  it('sends no status once cancelled, whatever the runner returns', () => {
    const d = run(running(), described('CANCELED', 3), {
      type: 'runSettled',
      outcome: { status: 'SUCCEEDED', statusDetails: {} },
    });
    expect(d.state.phase).toBe('cancelled');
    expect(types(d)).toEqual([]);
  });
});

describe('decide: restart recovery', () => {
  it('reports an interrupted execution FAILED, naming the step, and never runs it', () => {
    const before = run(running(), step(0), step(1)).state;
    const d = decide(restarted(before), { type: 'recovered' }, NOW);
    expect(d.state.outcome).toEqual({
      status: 'FAILED',
      statusDetails: { reason: 'interrupted', step: 'step-1', stepIndex: '1' },
    });
    expect(types(d)).toEqual(['persist', 'sendStatus']);
  });

  it('resumes after a resumable step, once the service confirms it is still IN_PROGRESS', () => {
    const before = run(running(), step(0), step(1, true)).state;
    const recovered = decide(restarted(before), { type: 'recovered' }, NOW);
    expect(types(recovered)).toEqual(['describe']);
    const d = decide(recovered.state, described('IN_PROGRESS', 2), NOW);
    expect(d.state).toMatchObject({ phase: 'started', running: true, resumedFromStep: 2 });
    expect(d.actions).toEqual([{ type: 'persist' }, { type: 'run', document: doc, resumeFromStep: 2 }]);
  });

  it('does not resume an execution cancelled while the agent was down', () => {
    const before = run(running(), step(0, true)).state;
    const d = run(restarted(before), { type: 'recovered' }, described('CANCELED', 3));
    expect(d.state.phase).toBe('cancelled');
    expect(types(d)).toEqual(['persist']);
  });

  it('continues a claim interrupted by the restart', () => {
    const before = run(newExecutionState(7), queued(1)).state;
    const recovered = decide(restarted(before), { type: 'recovered' }, NOW);
    expect(types(recovered)).toEqual(['describe']);
    expect(types(decide(recovered.state, described('IN_PROGRESS', 2), NOW))).toEqual(['persist', 'run']);
  });

  it('reports an IN_PROGRESS execution it has no journal record of (and no claim id) as interrupted', () => {
    const unclaimed: ExecutionEvent = {
      type: 'described',
      execution: { status: 'IN_PROGRESS', versionNumber: 5, jobDocument: doc },
      canStart: true,
    };
    const d = decide(newExecutionState(7), unclaimed, NOW);
    expect(d.state).toMatchObject({ phase: 'finished', versionNumber: 5 });
    expect(d.state.outcome?.statusDetails.reason).toBe('interrupted');
    expect(types(d)).toEqual(['persist', 'sendStatus']);
  });

  it('re-sends a journaled final status after a restart', () => {
    const before = run(running(), {
      type: 'runSettled',
      outcome: { status: 'SUCCEEDED', statusDetails: {} },
    }).state;
    expect(types(decide(restarted(before), { type: 'recovered' }, NOW))).toEqual(['sendStatus']);
  });
});

describe('decide: the outbox', () => {
  const finished = () =>
    run(running(), { type: 'runSettled', outcome: { status: 'SUCCEEDED', statusDetails: { reason: 'ok' } } })
      .state;

  it('backs off while the status cannot be delivered and re-sends when due', () => {
    const first = decide(finished(), { type: 'statusFailed', error: 'offline' }, NOW);
    expect(first.actions.find((a) => a.type === 'retryLater')).toEqual({ type: 'retryLater', attempt: 1 });
    const due = decide(first.state, { type: 'retryDue' }, NOW);
    expect(types(due)).toEqual(['sendStatus']);
    const second = decide(due.state, { type: 'statusFailed', error: 'timeout' }, NOW);
    expect(second.actions.find((a) => a.type === 'retryLater')).toEqual({ type: 'retryLater', attempt: 2 });
  });

  it('does not send twice at once', () => {
    expect(types(decide(finished(), { type: 'retryDue' }, NOW))).toEqual([]);
  });

  it('counts a refusal that shows our own status as delivered (an earlier send landed)', () => {
    const d = decide(
      finished(),
      {
        type: 'statusRejected',
        code: 'InvalidStateTransition',
        executionState: { status: 'SUCCEEDED', versionNumber: 3 },
      },
      NOW,
    );
    expect(d.state.phase).toBe('reported');
  });

  it.each(['TerminalStateReached', 'InvalidStateTransition', 'ResourceNotFound'])(
    'drops the status on %s',
    (code) => {
      const d = decide(finished(), { type: 'statusRejected', code }, NOW);
      expect(d.state.phase).toBe('dropped');
      expect(d.state.note).toContain(code);
      expect(types(d)).toEqual(['persist']);
    },
  );

  it('drops the status when the service shows another terminal status', () => {
    const d = decide(
      finished(),
      {
        type: 'statusRejected',
        code: 'InvalidStateTransition',
        executionState: { status: 'CANCELED', versionNumber: 3 },
      },
      NOW,
    );
    expect(d.state.phase).toBe('dropped');
  });

  it('re-sends with the service version after VersionMismatch', () => {
    const d = decide(
      finished(),
      {
        type: 'statusRejected',
        code: 'VersionMismatch',
        executionState: { status: 'IN_PROGRESS', versionNumber: 9 },
      },
      NOW,
    );
    expect(d.state.versionNumber).toBe(9);
    expect(types(d)).toEqual(['persist', 'sendStatus']);
  });

  it('falls back to the reason alone if the service refuses the details, then gives up', () => {
    const first = decide(finished(), { type: 'statusRejected', code: 'InvalidRequest' }, NOW);
    expect(first.state.outcome).toEqual({ status: 'SUCCEEDED', statusDetails: { reason: 'ok' } });
    expect(types(first)).toEqual(['persist', 'sendStatus']);
    expect(decide(first.state, { type: 'statusRejected', code: 'InvalidRequest' }, NOW).state.phase).toBe(
      'dropped',
    );
  });
});

describe('decide: claim identity (two agents for one thing)', () => {
  it('journals a claim id before the claim and sends nothing else', () => {
    const d = run(newExecutionState(7), queued(1));
    expect(d.state.claimId).toBe(CLAIM);
    expect(recordFromState(d.state)).toMatchObject({ phase: 'claiming', claimId: CLAIM });
    expect(types(d)).toEqual(['persist', 'claim']);
  });

  it('loses the execution when a describe after VersionMismatch shows another claim id', () => {
    const s = run(newExecutionState(7), queued(1), { type: 'claimRejected', code: 'VersionMismatch' }).state;
    const d = decide(s, described('IN_PROGRESS', 2, 'claim-theirs'), NOW);
    expect(d.state.phase).toBe('lost');
    expect(types(d)).toEqual(['persist']);
    expect(d.actions.find((a) => a.type === 'log')).toMatchObject({ level: 'debug' });
    // Whatever happens next, it neither runs nor reports it.
    for (const e of [described('IN_PROGRESS', 3, 'claim-theirs'), { type: 'retryDue' } as const]) {
      expect(types(decide(d.state, e, NOW))).toEqual([]);
    }
  });

  it('loses the execution when the accepted reply shows another claim id', () => {
    const d = run(newExecutionState(7), queued(1), {
      type: 'claimAccepted',
      versionNumber: 2,
      claimId: 'claim-theirs',
      canStart: true,
    });
    expect(d.state.phase).toBe('lost');
    expect(types(d)).toEqual(['persist']);
  });

  it('describes when the accepted reply shows no claim id, and runs once the describe shows its own', () => {
    const d = run(newExecutionState(7), queued(1), {
      type: 'claimAccepted',
      versionNumber: 2,
      canStart: true,
    });
    expect(types(d)).toEqual(['describe']);
    expect(types(decide(d.state, described('IN_PROGRESS', 2), NOW))).toEqual(['persist', 'run']);
  });

  it('leaves alone an IN_PROGRESS execution another agent claimed (no journal record here)', () => {
    const d = decide(newExecutionState(7), described('IN_PROGRESS', 5, 'claim-theirs'), NOW);
    expect(d.state.phase).toBe('new');
    expect(types(d)).toEqual([]);
  });

  it("after a restart, continues its own claim and leaves another agent's alone", () => {
    const claiming = restarted(run(newExecutionState(7), queued(1)).state);
    expect(types(decide(claiming, described('IN_PROGRESS', 2), NOW))).toEqual(['persist', 'run']);
    expect(decide(claiming, described('IN_PROGRESS', 2, 'claim-theirs'), NOW).state.phase).toBe('lost');
  });
});

describe('decide: graceful stop', () => {
  it('suspends a job in a resumable step at once: aborted, nothing reported, journal left as started', () => {
    const s = run(running(), step(0), step(1, true)).state;
    const d = decide(s, { type: 'stopping' }, NOW);
    expect(types(d)).toEqual(['abort']);
    const settled = decide(d.state, { type: 'runSettled', error: 'aborted' }, NOW);
    expect(types(settled)).toEqual([]);
    expect(settled.state).toMatchObject({ phase: 'started', running: false, lastStep: { index: 1 } });
    // The next start resumes after the resumable step, exactly as after a crash.
    const recovered = decide(restarted(settled.state), { type: 'recovered' }, NOW);
    expect(types(recovered)).toEqual(['describe']);
    const resumed = decide(recovered.state, described('IN_PROGRESS', 3), NOW);
    expect(resumed.actions).toContainEqual({ type: 'run', document: doc, resumeFromStep: 2 });
  });

  it('suspends rather than fails a resumable step still running at the stop deadline', () => {
    const s = decide(run(running(), step(0)).state, { type: 'stopping' }, NOW).state;
    const later = decide(s, step(1, true), NOW).state;
    const d = decide(later, { type: 'stopDeadline' }, NOW);
    expect(types(d)).toEqual(['abort']);
    expect(types(decide(d.state, { type: 'runSettled', error: 'aborted' }, NOW))).toEqual([]);
  });

  it('waits for a job in a non-resumable step when the stop begins', () => {
    expect(types(decide(run(running(), step(0)).state, { type: 'stopping' }, NOW))).toEqual([]);
  });

  it('aborts the job past the grace period and reports it interrupted at the running step', () => {
    const d = decide(run(running(), step(0), step(3)).state, { type: 'stopDeadline' }, NOW);
    expect(types(d)).toEqual(['abort', 'persist', 'sendStatus']);
    expect(d.actions[0]).toEqual({ type: 'abort', reason: 'stopping' });
    expect(d.state.outcome).toEqual({
      status: 'FAILED',
      statusDetails: { reason: 'interrupted', step: 'step-3', stepIndex: '3', detail: 'agent stopped' },
    });
    // The runner's late outcome changes nothing.
    const late = decide(
      d.state,
      { type: 'runSettled', outcome: { status: 'SUCCEEDED', statusDetails: {} } },
      NOW,
    );
    expect(late.state.outcome?.status).toBe('FAILED');
    expect(types(late)).toEqual([]);
  });
});

describe('decide: exactly once, for any sequence of events and restarts', () => {
  const statuses = ['QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'CANCELED', 'REMOVED', 'TIMED_OUT'];
  const codes = [
    'VersionMismatch',
    'TerminalStateReached',
    'InvalidStateTransition',
    'ResourceNotFound',
    'InvalidRequest',
  ];
  // Weighted towards the events that move an execution forward, so that long histories are common.
  const canStart = fc.oneof(
    { arbitrary: fc.constant(true), weight: 4 },
    { arbitrary: fc.constant(false), weight: 1 },
  );
  // The step the runner says a fresh run starts with (RunJob.firstStep), when it can tell.
  const firstStep = fc.option(
    fc.record({ index: fc.constant(0), name: fc.constant('s'), resumable: fc.boolean() }),
    { nil: undefined },
  );
  // What the service shows: our claim, another agent's, or none.
  const claimDetails = fc.constantFrom(
    { [CLAIM_ID_KEY]: CLAIM },
    { [CLAIM_ID_KEY]: 'claim-theirs' },
    {} as Record<string, string>,
  );
  const event: fc.Arbitrary<ExecutionEvent | 'restart' | 'restartWithoutJournal'> = fc.oneof(
    { arbitrary: fc.constant('restart' as const), weight: 4 },
    fc.constant('restartWithoutJournal' as const),
    {
      arbitrary: fc.record({
        type: fc.constant('described' as const),
        execution: fc.record({
          status: fc.constantFrom('QUEUED', 'IN_PROGRESS'),
          versionNumber: fc.nat(20),
          statusDetails: claimDetails,
        }),
        canStart,
        claimId: fc.constant(CLAIM),
        firstStep,
      }),
      weight: 6,
    },
    {
      arbitrary: fc.record({
        type: fc.constant('claimAccepted' as const),
        versionNumber: fc.nat(20),
        claimId: fc.constantFrom(CLAIM, 'claim-theirs'),
        canStart,
        firstStep,
      }),
      weight: 4,
    },
    fc.record({
      type: fc.constant('described' as const),
      execution: fc.record({ status: fc.constantFrom(...statuses), versionNumber: fc.nat(20) }),
      canStart,
    }),
    fc.record({ type: fc.constant('describeRejected' as const), code: fc.constantFrom(...codes) }),
    fc.record({ type: fc.constant('claimRejected' as const), code: fc.constantFrom(...codes) }),
    fc.constant({ type: 'claimFailed' as const, error: 'timeout' }),
    {
      arbitrary: fc.record({
        type: fc.constant('stepStarted' as const),
        step: fc.record({ index: fc.nat(5), name: fc.constant('s'), resumable: fc.boolean() }),
      }),
      weight: 3,
    },
    fc.constant({
      type: 'runSettled' as const,
      outcome: { status: 'SUCCEEDED' as const, statusDetails: {} },
    }),
    fc.constant({ type: 'statusAccepted' as const }),
    fc.record({ type: fc.constant('statusRejected' as const), code: fc.constantFrom(...codes) }),
    fc.constant({ type: 'statusFailed' as const, error: 'offline' }),
    fc.constant({ type: 'retryDue' as const }),
    fc.constant({ type: 'stopDeadline' as const }),
  );

  it('runs from the start at most once, resumes only past a journaled resumable step, and journals first', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        let state = newExecutionState(1);
        let freshRuns = 0;
        let journaled: ExecutionState | undefined;
        let serviceStarted = false; // once IN_PROGRESS, the service never shows QUEUED again
        for (const input of events) {
          let e: ExecutionEvent;
          if (input === 'restart' || input === 'restartWithoutJournal') {
            // The process dies: only what was journaled survives (or nothing, if the file was lost).
            if (input === 'restartWithoutJournal') journaled = undefined;
            state = journaled ? stateFromRecord(recordFromState(journaled)!) : newExecutionState(1);
            if (state.phase === 'new') continue;
            e = { type: 'recovered' };
          } else if (input.type === 'described' && serviceStarted && input.execution.status === 'QUEUED') {
            e = { ...input, execution: { ...input.execution, status: 'IN_PROGRESS' } };
          } else {
            e = input;
          }
          if (
            e.type === 'claimAccepted' ||
            (e.type === 'described' && e.execution.status === 'IN_PROGRESS')
          ) {
            serviceStarted = true;
          }
          const d = decide(state, e, NOW);
          let persisted = false;
          for (const a of d.actions) {
            if (a.type === 'persist') {
              persisted = true;
              journaled = d.state;
            }
            if (a.type === 'run') {
              expect(persisted).toBe(true); // the journal says started before the job runs
              expect(journaled?.phase).toBe('started');
              if (a.resumeFromStep === undefined) freshRuns += 1;
              else {
                expect(state.lastStep?.resumable).toBe(true);
                expect(a.resumeFromStep).toBe(state.lastStep!.index + 1);
              }
            }
            if (a.type === 'sendStatus') expect(d.state.phase).toBe('finished');
          }
          if (state.phase === 'cancelled' || state.phase === 'reported' || state.phase === 'dropped') {
            expect(
              d.actions.filter((a) => a.type === 'sendStatus' || a.type === 'run' || a.type === 'claim'),
            ).toEqual([]);
          }
          state = d.state;
        }
        expect(freshRuns).toBeLessThanOrEqual(1);
      }),
      { numRuns: 2000 },
    );
  });
});
