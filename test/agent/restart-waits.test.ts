// Nothing cuts a running job that could wait: a configuration change that needs a restart, and a
// Greengrass deployment of the component, both wait for the 5 s job to finish SUCCEEDED before the
// agent restarts. Real `ggjobs start` processes: with a config file (mqtt), and as a component
// through the IPC test server (SubscribeToComponentUpdates, DeferComponentUpdate).
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
import { recordDocument, runs, reliabilityDevice, type ReliabilityDevice } from './reliability-helpers.js';

const WAIT_MS = 40_000;
const JOB = 'job-slow';

describe('restarts wait for the running job', () => {
  let device: ReliabilityDevice;
  let js: JobsStack;
  let work: string;
  let handlers: string;
  let runsFile: string;
  let server: IpcTestServer | undefined;
  const agents: AgentProcess[] = [];

  beforeEach(async () => {
    device = await reliabilityDevice('ggjobs-restart-waits-', JOB, recordDocument(5));
    ({ js, work, handlers, runsFile } = device);
  });

  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop('SIGKILL');
    await server?.close();
    server = undefined;
    await device.close();
  });

  const patch = (extra: Record<string, unknown> = {}) => ({
    jobId: JOB,
    executor: { handlerDirectory: handlers, environment: { RUNS_FILE: runsFile } },
    ...extra,
  });
  const messages = (agent: AgentProcess) => agent.logLines().map((l) => String(l.msg));
  const succeeded = async () => (await js.execution(JOB))?.status === 'SUCCEEDED';

  it('a configuration change waits for the job, which ends SUCCEEDED, then the agent restarts', async () => {
    const file = join(work, 'ggjobs.yaml');
    await saveAtomically(file, deviceConfig(js, work, handlers, patch()));
    const agent = spawnGgjobs(['start', '--config', file]);
    agents.push(agent);
    await waitFor(() => runs(runsFile).length === 1, 'the 5 s job to run', WAIT_MS);

    // listen.pollIntervalSeconds needs a restart of the agent.
    await saveAtomically(
      file,
      deviceConfig(js, work, handlers, patch({ listen: { pollIntervalSeconds: '60' } })),
    );
    await waitFor(
      () =>
        messages(agent).includes(
          'configuration changed: waiting for the running job to finish before restarting',
        ),
      'the restart to wait',
      WAIT_MS,
    );
    await waitFor(
      () => messages(agent).filter((m) => m === 'listening for job executions').length === 2,
      'the restart',
      WAIT_MS,
    );
    expect(await succeeded()).toBe(true);
    const log = messages(agent);
    expect(log.indexOf('final status accepted')).toBeGreaterThan(
      log.indexOf('configuration changed: waiting for the running job to finish before restarting'),
    );
    expect(log.indexOf('final status accepted')).toBeLessThan(
      log.indexOf('configuration changed: stopping the agent to start it with the new configuration'),
    );
    expect(log).not.toContain(
      'the running job outlasted listen.restartWaitSeconds: restarting now (it gets listen.shutdownGraceSeconds)',
    );
    expect((await js.execution(JOB))?.statusDetails?.detailsMap?.reason).toBe('the step succeeded');
    expect(agent.child.exitCode).toBeNull();
    expect(await agent.stop('SIGTERM')).toBe(0);
  });

  it('a Greengrass component update is deferred while the job runs; it proceeds once the job is SUCCEEDED', async () => {
    server = await startIpcServer({
      socketPath: join(work, 'nucleus.sock'),
      svcuid: 'updates-svcuid',
      mqttUrl: js.stack.mqttUrl,
      componentName: 'io.ggjobs.JobsAgent',
      configuration: componentConfiguration(js, work, handlers, patch()),
      accessControl: JOBS_ACCESS,
    });
    const environment = componentEnvironment(js, server.socketPath, 'updates-svcuid');
    const agent = spawnGgjobs(['start'], environment);
    agents.push(agent);
    await waitFor(
      () => server!.requests('SubscribeToComponentUpdates').length === 1,
      'SubscribeToComponentUpdates',
      WAIT_MS,
    );
    await waitFor(() => runs(runsFile).length === 1, 'the 5 s job to run', WAIT_MS);

    const update = await server.runComponentUpdate('deployment-1', { responseWindowMs: 1_000 });
    // The update may proceed only now: the job is done and reported.
    expect(await succeeded()).toBe(true);
    expect(update.deferrals).toBeGreaterThanOrEqual(1);
    expect(server.requests('DeferComponentUpdate')[0]).toMatchObject({
      deploymentId: 'deployment-1',
      recheckAfterMs: expect.any(Number),
    });
    expect(messages(agent)).toContain('greengrass: component update deferred while a job runs');
    // Asked again once the job was done, it let the update proceed and took no new job meanwhile.
    expect(messages(agent)).toContain(
      'greengrass: component update may proceed; taking no new jobs until it is done',
    );

    // The nucleus restarts the component with the new version; nothing is cut, nothing runs twice.
    expect(await agent.stop('SIGTERM')).toBe(0);
    const next = spawnGgjobs(['start'], environment);
    agents.push(next);
    await waitFor(
      () => server!.states().filter((s) => s === 'RUNNING').length === 2,
      'UpdateState RUNNING again',
      WAIT_MS,
    );
    server.finishComponentUpdate('deployment-1');
    expect(runs(runsFile)).toHaveLength(1);
    expect(await next.stop('SIGTERM')).toBe(0);
  });
});
