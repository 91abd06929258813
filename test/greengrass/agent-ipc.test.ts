// `ggjobs start` as the Greengrass nucleus runs it: a child process whose environment carries the IPC
// socket and SVCUID, no config file, the component configuration read over IPC (real device SDK IPC
// client against the IPC test server), Jobs traffic through PublishToIoTCore/SubscribeToIoTCore
// bridged to the local stack's broker, the component state reported with UpdateState, and a
// configuration update applied without restarting the process.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  componentConfiguration,
  componentEnvironment,
  handlerDirectory,
  JOBS_ACCESS,
  type JobsStack,
  SITE_GROUP,
  spawnGgjobs,
  startJobsStack,
  THING,
  waitFor,
} from '../agent/helpers.js';
import { type IpcTestServer, startIpcServer } from './ipc-server/index.js';

const WAIT_MS = 30_000;
const SVCUID = 'agent-ipc-svcuid';

describe('ggjobs start as a Greengrass component', () => {
  let js: JobsStack;
  let work: string;
  let handlers: string;
  let server: IpcTestServer;
  let agent: AgentProcess | undefined;

  beforeEach(async () => {
    js = await startJobsStack();
    work = await mkdtemp(join(tmpdir(), 'ggjobs-agent-ipc-'));
    handlers = await handlerDirectory(work);
  });

  afterEach(async () => {
    await agent?.stop('SIGKILL');
    agent = undefined;
    await server?.close();
    await js.close();
    await rm(work, { recursive: true, force: true });
  });

  async function startNucleus(configuration: Record<string, unknown>): Promise<void> {
    server = await startIpcServer({
      socketPath: join(work, 'nucleus.sock'),
      svcuid: SVCUID,
      mqttUrl: js.stack.mqttUrl,
      componentName: 'io.ggjobs.JobsAgent',
      configuration,
      accessControl: JOBS_ACCESS,
    });
  }

  const logged = (msg: RegExp) => agent?.logLines().find((l) => msg.test(String(l.msg)));

  it('enrolls, runs and reports through IPC, reports RUNNING, and applies configuration updates live', async () => {
    await js.createThing(THING);
    await js.createGroup(SITE_GROUP);
    await js.createJob('job-a', { word: 'from-job-a' });
    await js.createJob('job-b', { word: 'from-job-b' });
    const configuration = componentConfiguration(js, work, handlers);
    await startNucleus(configuration);

    agent = spawnGgjobs(['start'], componentEnvironment(js, server.socketPath, SVCUID));
    await waitFor(() => server.states().includes('RUNNING'), 'UpdateState RUNNING', WAIT_MS);
    expect(await js.jobTargets('job-a')).toContain(js.groupArn(SITE_GROUP));
    expect(server.requests('GetConfiguration').length).toBeGreaterThan(0);
    expect(server.requests('SubscribeToConfigurationUpdate').length).toBeGreaterThan(0);

    // An invalid update is refused with the config error's text; the configuration in force stays.
    server.setConfiguration({ ...configuration, listen: { requestTimeoutMs: 'soon' } });
    const refusal = await waitFor(
      () => logged(/Greengrass configuration update refused/),
      'the refusal',
      WAIT_MS,
    );
    expect(refusal.msg).toMatch(
      /listen\.requestTimeoutMs "soon": must be a whole number from 100 to 300000 \(from Greengrass component configuration\)/,
    );
    await js.addToGroup(THING, SITE_GROUP);
    await waitFor(
      async () => (await js.execution('job-a'))?.status === 'SUCCEEDED',
      "job-a's execution SUCCEEDED under the configuration in force",
      WAIT_MS,
    );

    // A valid update with another job: re-enrolled and run in the same process, RUNNING again.
    server.setConfiguration({ ...configuration, jobId: 'job-b' });
    const execution = await waitFor(
      async () => {
        const e = await js.execution('job-b');
        return e?.status === 'SUCCEEDED' ? e : undefined;
      },
      "job-b's execution SUCCEEDED",
      WAIT_MS,
    );
    expect(execution.statusDetails?.detailsMap?.stdout).toContain('from-job-b');
    expect(await js.jobTargets('job-b')).toContain(js.groupArn(SITE_GROUP));
    await waitFor(() => server.states().length === 2, 'UpdateState RUNNING again', WAIT_MS);
    expect(server.states()).toEqual(['RUNNING', 'RUNNING']);
    expect(agent.child.exitCode).toBeNull();

    // Every Jobs request went through the nucleus.
    const published = server.requests('PublishToIoTCore') as Array<{ topicName: string }>;
    expect(published.map((r) => r.topicName)).toContain(
      `$aws/things/${THING}/jobs/job-b/namespace-field-ops/update`,
    );

    expect(await agent.stop('SIGTERM')).toBe(0);
    expect(server.states()).toEqual(['RUNNING', 'RUNNING']);
  });

  it('reports ERRORED and exits 3 when the configured job cannot take the group', async () => {
    await js.createThing(THING, [SITE_GROUP]);
    await js.createJob('job-snap', { targetSelection: 'SNAPSHOT' });
    await startNucleus(componentConfiguration(js, work, handlers, { jobId: 'job-snap' }));

    agent = spawnGgjobs(['start'], componentEnvironment(js, server.socketPath, SVCUID));
    expect(await agent.waitExit(WAIT_MS)).toBe(3);
    expect(server.states()).toEqual(['ERRORED']);
    expect(agent.stderr).toMatch(/ggjobs: .*job-snap/);
  });

  it('reports ERRORED and exits 2 when the component configuration is invalid', async () => {
    await startNucleus(componentConfiguration(js, work, handlers, { namespaceId: 'no spaces' }));
    agent = spawnGgjobs(['start'], componentEnvironment(js, server.socketPath, SVCUID));
    expect(await agent.waitExit(WAIT_MS)).toBe(2);
    expect(server.states()).toEqual(['ERRORED']);
    expect(agent.stderr).toMatch(/namespaceId "no spaces": .*\(from Greengrass component configuration\)/);
  });
});
