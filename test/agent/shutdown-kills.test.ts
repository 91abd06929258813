// Shutdown leaves nothing behind: SIGTERM to the agent while a step runs whose processes ignore
// SIGTERM (the handler and the sleep it started). After the grace period the step's process group
// gets SIGTERM, executor.killGraceSeconds later SIGKILL, and the agent exits only after that: once
// it has exited, no process of the group is alive. The execution is reported FAILED interrupted.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { groupHasLiveMembers } from '../../src/run/spawn.js';
import {
  type AgentProcess,
  deviceConfig,
  type JobsStack,
  SITE_GROUP,
  saveAtomically,
  spawnGgjobs,
  startJobsStack,
  THING,
  waitFor,
} from './helpers.js';
import {
  createJobWithDocument,
  pidFrom,
  reliabilityHandlers,
  STUBBORN_DOCUMENT,
} from './reliability-helpers.js';
import { safeTempDir } from '../support/safe-dir.js';

const WAIT_MS = 30_000;
const JOB = 'job-stubborn';

describe('shutdown with a step that ignores SIGTERM', () => {
  let js: JobsStack;
  let work: string;
  let agent: AgentProcess | undefined;
  let group: number | undefined;

  beforeEach(async () => {
    js = await startJobsStack();
    // Handler directories must not sit below /tmp (group/other writable): a trusted base instead.
    work = await safeTempDir('ggjobs-shutdown-');
  });

  afterEach(async () => {
    await agent?.stop('SIGKILL');
    if (group !== undefined && groupHasLiveMembers(group)) process.kill(-group, 'SIGKILL');
    await js.close();
    await rm(work, { recursive: true, force: true });
  });

  it('kills the whole group before the agent exits', async () => {
    const { dir: handlers, runsFile } = await reliabilityHandlers(work);
    await js.createThing(THING, [SITE_GROUP]);
    await createJobWithDocument(js, JOB, STUBBORN_DOCUMENT);
    const file = join(work, 'ggjobs.yaml');
    await saveAtomically(
      file,
      deviceConfig(js, work, handlers, {
        jobId: JOB,
        listen: { shutdownGraceSeconds: '1', requestTimeoutMs: '5000' },
        executor: { handlerDirectory: handlers, killGraceSeconds: '3', environment: { RUNS_FILE: runsFile } },
      }),
    );
    agent = spawnGgjobs(['start', '--config', file]);
    // The handler leads its own process group (setsid): its PID is the group id.
    group = await waitFor(() => pidFrom(`${runsFile}.stubborn-pid`), 'the stubborn step to run', WAIT_MS);
    expect(groupHasLiveMembers(group)).toBe(true);

    expect(await agent.stop('SIGTERM')).toBe(0);
    expect(groupHasLiveMembers(group)).toBe(false);
    const execution = await js.execution(JOB);
    expect(execution?.status).toBe('FAILED');
    expect(execution?.statusDetails?.detailsMap).toMatchObject({
      reason: 'interrupted',
      detail: 'agent stopped',
    });
  });
});
