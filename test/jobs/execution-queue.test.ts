// The queue's part in pausing (a restart or a Greengrass deployment waiting for the running job): no
// new claim while paused, but a claim already under way still starts its job, since that job is what
// the pause waits for.
import { describe, expect, it } from 'vitest';
import type { ExecutionAction, ExecutionState } from '../../src/jobs/decide.js';
import { ExecutionQueue } from '../../src/jobs/execution-queue.js';
import type { Journal } from '../../src/jobs/journal.js';
import type { ListenerLifecycle } from '../../src/jobs/listener-types.js';
import { silentLogger } from '../../src/log.js';

function queue(lifecycle: ListenerLifecycle) {
  const performed: Array<{ n: number; action: ExecutionAction['type'] }> = [];
  const journal = { save: async () => undefined } as unknown as Journal;
  const q = new ExecutionQueue({
    journal,
    log: silentLogger(),
    lifecycle,
    perform: (n: number, _s: ExecutionState, action: ExecutionAction) => {
      if (action.type !== 'log') performed.push({ n, action: action.type });
    },
    released: () => undefined,
  });
  return { q, performed };
}

describe('ExecutionQueue while paused', () => {
  it('claims nothing new, but starts the job of a claim that was already under way', async () => {
    const lifecycle: ListenerLifecycle = { ready: true, stopping: false, stopped: false };
    const { q, performed } = queue(lifecycle);
    await q.dispatch(1, {
      type: 'described',
      execution: { status: 'QUEUED', versionNumber: 1, jobDocument: {} },
      canStart: true,
      claimId: 'c1',
    });
    expect(performed).toEqual([{ n: 1, action: 'claim' }]);
    expect(q.busy).toBe(true);

    lifecycle.paused = 'a restart waits for the running job';
    await q.dispatch(1, { type: 'claimAccepted', versionNumber: 2, claimId: 'c1', canStart: true });
    expect(performed.at(-1)).toEqual({ n: 1, action: 'run' });

    await q.dispatch(2, {
      type: 'described',
      execution: { status: 'QUEUED', versionNumber: 1, jobDocument: {} },
      canStart: true,
      claimId: 'c2',
    });
    expect(performed.filter((p) => p.n === 2)).toEqual([]);
  });

  it('counts a final status on its way as busy, and is idle once it is accepted', async () => {
    const lifecycle: ListenerLifecycle = { ready: true, stopping: false, stopped: false };
    const { q } = queue(lifecycle);
    await q.dispatch(1, {
      type: 'described',
      execution: { status: 'QUEUED', versionNumber: 1, jobDocument: {} },
      canStart: true,
      claimId: 'c1',
    });
    await q.dispatch(1, { type: 'claimAccepted', versionNumber: 2, claimId: 'c1', canStart: true });
    await q.dispatch(1, { type: 'runSettled', outcome: { status: 'SUCCEEDED', statusDetails: {} } });
    expect(q.busy).toBe(true);
    await q.dispatch(1, { type: 'statusAccepted' });
    expect(q.busy).toBe(false);
  });
});
