// The AWS-Reboot flow as a device lives it: the reboot step (resumeAfterReboot) asks for a reboot and
// waits; the system then stops ggjobs (SIGTERM from systemd or the Greengrass nucleus, or a power cut:
// SIGKILL) and the handler dies with it. After the restart the agent continues with the next step,
// runs it once, and reports SUCCEEDED; no FAILED is ever sent. Real `ggjobs start` processes, the
// local stack's broker, the journal on disk, and the handlers' own record of what ran.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isProcessAlive } from '../../src/run/spawn.js';
import { type IpcTestServer, startIpcServer } from '../greengrass/ipc-server/index.js';
import {
  type AgentProcess,
  componentConfiguration,
  componentEnvironment,
  deviceConfig,
  JOBS_ACCESS,
  type JobsStack,
  saveAtomically,
  spawnGgjobs,
  waitFor,
} from './helpers.js';
import {
  journalRecord,
  killIfAlive,
  observeUpdates,
  pidFrom,
  REBOOT_THEN_AFTER,
  runs,
  reliabilityDevice,
  type ReliabilityDevice,
} from './reliability-helpers.js';

const WAIT_MS = 30_000;
const JOB = 'job-reboot';

describe('AWS-Reboot: the agent is stopped during the reboot step', () => {
  let device: ReliabilityDevice;
  let js: JobsStack;
  let work: string;
  let handlers: string;
  let runsFile: string;
  let server: IpcTestServer | undefined;
  let observer: Awaited<ReturnType<typeof observeUpdates>>;
  const agents: AgentProcess[] = [];

  beforeEach(async () => {
    device = await reliabilityDevice('ggjobs-reboot-', JOB, REBOOT_THEN_AFTER);
    ({ js, work, handlers, runsFile } = device);
    observer = await observeUpdates(js, JOB);
  });

  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop('SIGKILL');
    killIfAlive(pidFrom(`${runsFile}.reboot-pid`));
    await observer.close();
    await server?.close();
    server = undefined;
    await device.close();
  });

  const stateDirectory = () => join(work, 'state');
  const patch = () => ({
    jobId: JOB,
    executor: { handlerDirectory: handlers, environment: { RUNS_FILE: runsFile } },
  });

  async function startMqttAgent(): Promise<AgentProcess> {
    const file = join(work, 'ggjobs.yaml');
    await saveAtomically(file, deviceConfig(js, work, handlers, patch()));
    const agent = spawnGgjobs(['start', '--config', file]);
    agents.push(agent);
    return agent;
  }

  async function startComponent(): Promise<AgentProcess> {
    server ??= await startIpcServer({
      socketPath: join(work, 'nucleus.sock'),
      svcuid: 'reboot-svcuid',
      mqttUrl: js.stack.mqttUrl,
      componentName: 'io.ggjobs.JobsAgent',
      configuration: componentConfiguration(js, work, handlers, patch()),
      accessControl: JOBS_ACCESS,
    });
    const agent = spawnGgjobs(['start'], componentEnvironment(js, server.socketPath, 'reboot-svcuid'));
    agents.push(agent);
    return agent;
  }

  async function rebootDuringStep(
    start: () => Promise<AgentProcess>,
    signal: NodeJS.Signals,
    { handlerFirst = false } = {},
  ): Promise<void> {
    const first = await start();
    const rebootPid = await waitFor(
      () => pidFrom(`${runsFile}.reboot-pid`),
      'the reboot handler to run',
      WAIT_MS,
    );
    const n = Number(runs(runsFile)[0]?.split(' ')[1]);
    expect(journalRecord(stateDirectory(), JOB, n)).toMatchObject({
      phase: 'started',
      lastStep: { index: 0, name: 'Reboot', resumable: true },
    });

    if (handlerFirst) {
      // The shutdown reaches the handler a moment before the agent (systemd's KillMode=control-group,
      // the nucleus stopping the component's process tree).
      process.kill(rebootPid, 'SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const code = await first.stop(signal);
    expect(code).toBe(signal === 'SIGTERM' ? 0 : null);
    killIfAlive(rebootPid); // the reboot takes the handler with it
    await waitFor(() => !isProcessAlive(rebootPid), 'the reboot handler to be gone', WAIT_MS);
    // Nothing reported, the journal keeps the step as started.
    expect((await js.execution(JOB))?.status).toBe('IN_PROGRESS');
    expect(journalRecord(stateDirectory(), JOB, n)).toMatchObject({
      phase: 'started',
      lastStep: { index: 0 },
    });
    if (signal === 'SIGTERM') {
      expect(first.logLines().some((l) => /resumable step/.test(String(l.msg)))).toBe(true);
    }

    await start();
    const execution = await waitFor(
      async () => {
        const e = await js.execution(JOB);
        return e?.status === 'SUCCEEDED' ? e : undefined;
      },
      'the execution to be SUCCEEDED after the restart',
      WAIT_MS,
    );
    expect(execution.statusDetails?.detailsMap).toMatchObject({ resumedFromStep: '1', step: 'After' });
    expect(runs(runsFile)).toEqual([`reboot ${n}`, `after ${n}`]);
    await waitFor(
      () => journalRecord(stateDirectory(), JOB, n)?.phase === 'reported',
      'the journal to say reported',
      WAIT_MS,
    );
    const statuses = observer.updates.filter((u) => u.jobId === JOB).map((u) => u.status);
    expect(statuses).not.toContain('FAILED');
    expect(statuses.filter((s) => s === 'SUCCEEDED').length).toBeGreaterThanOrEqual(1);
  }

  it('SIGTERM (systemd reboot): the next step runs once after the restart, SUCCEEDED, no FAILED sent', async () => {
    await rebootDuringStep(startMqttAgent, 'SIGTERM');
  });

  it('SIGTERM reaching the handler just before the agent: the same', async () => {
    await rebootDuringStep(startMqttAgent, 'SIGTERM', { handlerFirst: true });
  });

  it('SIGKILL (power cut): the same', async () => {
    await rebootDuringStep(startMqttAgent, 'SIGKILL');
  });

  it('under the Greengrass IPC transport (the nucleus stops the component with SIGTERM): the same', async () => {
    await rebootDuringStep(startComponent, 'SIGTERM');
  });
});
