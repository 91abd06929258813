// Live configuration under Greengrass, in process: startSupervisor with the environment of a
// component pointing at the IPC test server (real device SDK IPC client), the local AWS IoT stack
// behind it. Covers what the child-process test (agent-ipc.test.ts) does not: the local file beating
// the Greengrass configuration, restarts that skip enrollment, the newest pending configuration
// winning while a job holds the old agent, and ERRORED for a reconfiguration that cannot start.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Supervisor, type SupervisorEvent, startSupervisor } from '../../src/supervisor/index.js';
import {
  captureLogger,
  componentConfiguration,
  componentEnvironment,
  gatedRunJob,
  handlerDirectory,
  JOBS_ACCESS,
  type JobsStack,
  SITE_GROUP,
  saveAtomically,
  startJobsStack,
  THING,
  useLocalCredentials,
  waitFor,
} from '../agent/helpers.js';
import { type IpcTestServer, startIpcServer } from './ipc-server/index.js';

const SVCUID = 'live-config-svcuid';
let restoreCredentials: () => void;
beforeAll(() => {
  restoreCredentials = useLocalCredentials();
});
afterAll(() => restoreCredentials());

describe('live Greengrass configuration (in process)', () => {
  let js: JobsStack;
  let work: string;
  let handlers: string;
  let server: IpcTestServer;
  let supervisor: Supervisor | undefined;
  let events: SupervisorEvent[];
  const capture = captureLogger();

  beforeEach(async () => {
    js = await startJobsStack();
    work = await mkdtemp(join(tmpdir(), 'ggjobs-live-config-'));
    handlers = await handlerDirectory(work);
    events = [];
  });

  afterEach(async () => {
    await supervisor?.stop({ graceMs: 1_000 });
    supervisor = undefined;
    await server?.close();
    await js.close();
    await rm(work, { recursive: true, force: true });
  });

  async function start(
    configuration: Record<string, unknown>,
    options: { configFile?: string; runJob?: ReturnType<typeof gatedRunJob>['runJob'] } = {},
  ): Promise<Supervisor> {
    server = await startIpcServer({
      socketPath: join(work, 'nucleus.sock'),
      svcuid: SVCUID,
      mqttUrl: js.stack.mqttUrl,
      componentName: 'io.ggjobs.JobsAgent',
      configuration,
      accessControl: JOBS_ACCESS,
    });
    supervisor = await startSupervisor({
      env: componentEnvironment(js, server.socketPath, SVCUID),
      log: capture.log,
      configFileDebounceMs: 20,
      onEvent: (event) => events.push(event),
      ...options,
    });
    return supervisor;
  }

  const started = () =>
    events.flatMap((e) => (e.type === 'started' ? [{ jobId: e.config.jobId, changed: e.changed }] : []));

  it('lets the local file override the Greengrass configuration; restarts without re-enrolling when only listen.* changes', async () => {
    await js.createThing(THING, [SITE_GROUP]);
    await js.createJob('job-a');
    await js.createJob('job-f');
    const configFile = join(work, 'ggjobs.yaml');
    await saveAtomically(configFile, { jobId: 'job-f' });
    const configuration = componentConfiguration(js, work, handlers);
    const gated = gatedRunJob();
    const sup = await start(configuration, { configFile, runJob: gated.runJob });
    expect(sup.underGreengrass).toBe(true);
    expect(sup.config?.jobId).toBe('job-f');
    expect(sup.config?.transport).toEqual({ kind: 'greengrass-ipc' });
    await waitFor(() => gated.runs.length === 1, 'job-f to run');
    expect(gated.runs[0]?.jobId).toBe('job-f');

    // The file still names job-f: a Greengrass jobId change does not change the effective config.
    const agentBefore = sup.agent;
    server.setConfiguration({ ...configuration, jobId: 'job-x' });
    await waitFor(() => events.some((e) => e.type === 'config-unchanged'), 'the unchanged verdict');
    expect(sup.agent).toBe(agentBefore);

    // A listen.* change: a restart with the new config, but no second enrollment.
    const describeJobs = js.stack.requestCount('DescribeJob');
    server.setConfiguration({
      ...configuration,
      jobId: 'job-x',
      listen: { ...(configuration.listen as object), pollIntervalSeconds: '3600' },
    });
    await waitFor(() => started().length === 2, 'the restart');
    expect(started()[1]).toEqual({ jobId: 'job-f', changed: ['listen.pollIntervalSeconds'] });
    expect(events.find((e) => e.type === 'started' && e.changed.length > 0)).toMatchObject({
      enrolled: false,
    });
    expect(sup.config?.listen.pollIntervalSeconds).toBe(3600);
    expect(js.stack.requestCount('DescribeJob')).toBe(describeJobs);
    await waitFor(() => server.states().length === 2, 'RUNNING twice');
    expect(server.states()).toEqual(['RUNNING', 'RUNNING']);
  });

  it('applies one configuration at a time, the newest pending one winning, after the running job finished', async () => {
    await js.createThing(THING, [SITE_GROUP]);
    for (const jobId of ['job-a', 'job-b', 'job-c']) await js.createJob(jobId);
    const configuration = componentConfiguration(js, work, handlers, {
      listen: { shutdownGraceSeconds: '60' },
    });
    const gated = gatedRunJob();
    gated.hold();
    await start(configuration, { runJob: gated.runJob });
    await waitFor(() => gated.runs.length === 1, 'job-a to be running');

    server.setConfiguration({ ...configuration, jobId: 'job-b' });
    await waitFor(
      () => events.some((e) => e.type === 'config-pending' && e.config.jobId === 'job-b'),
      'job-b pending',
    );
    // The old agent is stopping and gives job-a its grace; meanwhile another update comes in.
    await waitFor(() => capture.find(/configuration changed: stopping the agent/), 'the stop to begin');
    server.setConfiguration({ ...configuration, jobId: 'job-c' });
    await waitFor(
      () => events.some((e) => e.type === 'config-pending' && e.config.jobId === 'job-c'),
      'job-c pending',
    );
    expect(started().map((s) => s.jobId)).toEqual(['job-a']);
    gated.release();

    await waitFor(() => started().length === 2, 'job-c to start');
    expect(started().map((s) => s.jobId)).toEqual(['job-a', 'job-c']);
    await waitFor(() => gated.runs.length === 2, 'job-c to run');
    expect(gated.runs.map((r) => r.jobId)).toEqual(['job-a', 'job-c']);
    await waitFor(
      async () =>
        (await js.execution('job-a'))?.status === 'SUCCEEDED' &&
        (await js.execution('job-c'))?.status === 'SUCCEEDED',
      'both executions SUCCEEDED',
    );
    // job-b was never applied, so its job never got the group.
    expect(await js.jobTargets('job-b')).not.toContain(js.groupArn(SITE_GROUP));
    expect(await js.jobTargets('job-c')).toContain(js.groupArn(SITE_GROUP));
  });

  it('reports ERRORED and fails when a reconfiguration cannot start', async () => {
    await js.createThing(THING, [SITE_GROUP]);
    await js.createJob('job-a');
    await js.createJob('job-snap', { targetSelection: 'SNAPSHOT' });
    const configuration = componentConfiguration(js, work, handlers);
    const sup = await start(configuration, { runJob: gatedRunJob().runJob });
    expect(server.states()).toEqual(['RUNNING']);

    server.setConfiguration({ ...configuration, jobId: 'job-snap' });
    await expect(sup.finished).rejects.toMatchObject({ code: 'GGJOBS_ERR_JOB_NOT_CONTINUOUS' });
    expect(server.states()).toEqual(['RUNNING', 'ERRORED']);
    expect(sup.agent).toBeUndefined();
  });
});
