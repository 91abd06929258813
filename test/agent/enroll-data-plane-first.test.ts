// Data-plane-first enrollment as the agent composes it, against the local AWS IoT stack: a device that
// already has an execution of the job, or a recorded enrollment, makes no control-plane call; devices of
// one group booting together leave the group a target once; a restart of them makes no control-plane call.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssociateTargetsWithJobCommand } from '@aws-sdk/client-iot';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AgentEvent, type RunningAgent, startAgent } from '../../src/agent.js';
import { configSchema } from '../../src/config/schema.js';
import { enrollmentKey } from '../../src/enroll/decide-enrollment.js';
import { enrollmentRecordPath } from '../../src/enroll/enrollment-record.js';
import { silentLogger } from '../../src/log.js';
import {
  deviceConfig,
  handlerDirectory,
  type JobsStack,
  SITE_GROUP,
  startJobsStack,
  useLocalCredentials,
  waitFor,
} from './helpers.js';

const controlPlaneCalls = (js: JobsStack) =>
  js.stack.requestCount('DescribeJob') +
  js.stack.requestCount('AssociateTargetsWithJob') +
  js.stack.requestCount('DescribeThingGroup');

describe('enroll, data plane first (agent on the local stack)', () => {
  let js: JobsStack;
  let work: string;
  let handlers: string;
  let restoreCredentials: () => void;
  const agents: RunningAgent[] = [];

  beforeAll(() => {
    restoreCredentials = useLocalCredentials();
  });
  afterAll(() => restoreCredentials());

  beforeEach(async () => {
    js = await startJobsStack();
    work = await mkdtemp(join(tmpdir(), 'ggjobs-enroll-dp-'));
    handlers = await handlerDirectory(work);
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop({ graceMs: 0 })));
    await js.close();
    await rm(work, { recursive: true, force: true });
  });

  /** Starts the agent of `thingName` (own state directory) and resolves with its 'enrolled' event. */
  async function start(thingName: string, enroll: Record<string, unknown> = {}) {
    const base = deviceConfig(js, work, handlers, {
      thingName,
      stateDirectory: join(work, `state-${thingName}`),
      logLevel: 'silent',
    });
    const config = configSchema.parse({ ...base, enroll: { ...(base.enroll as object), ...enroll } });
    const events: AgentEvent[] = [];
    const agent = await startAgent(config, { log: silentLogger(), onEvent: (e) => events.push(e) });
    agents.push(agent);
    const enrolled = events.find((e) => e.type === 'enrolled');
    return { agent, config, enrolled: enrolled?.type === 'enrolled' ? enrolled.result : undefined };
  }

  it('makes no control-plane call when the device already has an execution of the job, and records it', async () => {
    await js.createThing('core-1', [SITE_GROUP]);
    await js.createJob('job-a');
    // Another device (or the operator) made the group a target: core-1 has an execution already.
    await js.iot.send(
      new AssociateTargetsWithJobCommand({
        jobId: 'job-a',
        targets: [js.groupArn(SITE_GROUP)],
        namespaceId: 'field-ops',
      }),
    );
    const before = controlPlaneCalls(js);
    const { enrolled, config } = await start('core-1');
    expect(enrolled).toMatchObject({ result: 'has-execution', calls: 0, looks: 1 });
    expect(controlPlaneCalls(js)).toBe(before);
    const record = JSON.parse(await readFile(enrollmentRecordPath(config.stateDirectory), 'utf8'));
    expect(record).toMatchObject({ via: 'has-execution' });
    expect(record.reverifyAt).toBeGreaterThan(record.verifiedAt);
  });

  it('enrolls a group whose devices boot together, then restarts them without any control-plane call', async () => {
    const things = ['core-1', 'core-2', 'core-3'];
    for (const t of things) await js.createThing(t, [SITE_GROUP]);
    await js.createJob('job-a');
    const first = await Promise.all(things.map((t) => start(t, { firstBootWaitSeconds: '1' })));
    expect(await js.jobTargets('job-a')).toContain(js.groupArn(SITE_GROUP));
    for (const { enrolled } of first) {
      expect(['associated', 'already-associated', 'has-execution']).toContain(enrolled?.result);
    }
    // At most every device once: describe + associate each; usually fewer (the others found the execution).
    expect(js.stack.requestCount('AssociateTargetsWithJob')).toBeGreaterThanOrEqual(1);
    expect(js.stack.requestCount('AssociateTargetsWithJob')).toBeLessThanOrEqual(things.length);
    // Every device runs the execution the association created.
    for (const t of things) {
      await waitFor(
        async () => (await js.execution('job-a', t))?.status === 'SUCCEEDED',
        `${t}'s execution to be SUCCEEDED`,
        30_000,
      );
    }

    await Promise.all(agents.splice(0).map((a) => a.stop({ graceMs: 0 })));
    const before = controlPlaneCalls(js);
    const dataPlaneBefore = js.stack.requestCount('data:DescribeJobExecution');
    const again = await Promise.all(things.map((t) => start(t, { firstBootWaitSeconds: '1' })));
    for (const { enrolled } of again)
      expect(enrolled).toMatchObject({ result: 'recorded', calls: 0, looks: 0 });
    expect(controlPlaneCalls(js)).toBe(before);
    // The listeners still describe on start; enroll itself added no look.
    expect(js.stack.requestCount('data:DescribeJobExecution') - dataPlaneBefore).toBe(things.length);
  });

  it('verifies a record that is due on the data plane, not the control plane, and moves it on (its execution long finished)', async () => {
    await js.createThing('core-1', [SITE_GROUP]);
    await js.createJob('job-a');
    const { agent, config } = await start('core-1');
    expect(agent.enrollment).toMatchObject({ result: 'associated' });
    // Finished: the service answers a describe of it TerminalStateReached, which still means "has one".
    await waitFor(
      async () => (await js.execution('job-a', 'core-1'))?.status === 'SUCCEEDED',
      'the execution to be SUCCEEDED',
      30_000,
    );
    await agent.stop({ graceMs: 0 });
    agents.splice(0);
    const path = enrollmentRecordPath(config.stateDirectory);
    const due = { ...JSON.parse(await readFile(path, 'utf8')), reverifyAt: Date.now() - 1 };
    await writeFile(path, JSON.stringify(due));
    const before = controlPlaneCalls(js);
    const { enrolled } = await start('core-1');
    expect(enrolled).toMatchObject({ result: 'has-execution', calls: 0, looks: 1, jobArn: due.jobArn });
    expect(controlPlaneCalls(js)).toBe(before);
    const record = JSON.parse(await readFile(path, 'utf8'));
    expect(record.reverifyAt).toBeGreaterThan(Date.now());
  });

  it('asks the control plane at once (no first-boot wait) when a due record finds no execution', async () => {
    // The device is not in the group, so it has no execution: as if the group had left the job.
    await js.createThing('core-1');
    await js.createGroup(SITE_GROUP);
    await js.createJob('job-a');
    const stateDirectory = join(work, 'state-core-1');
    const config = configSchema.parse(
      deviceConfig(js, work, handlers, { thingName: 'core-1', stateDirectory }),
    );
    await mkdir(stateDirectory, { recursive: true });
    const now = Date.now();
    await writeFile(
      enrollmentRecordPath(stateDirectory),
      JSON.stringify({
        key: enrollmentKey({ ...config, ...config.enroll }),
        via: 'associated',
        verifiedAt: now - 10_000,
        reverifyAt: now - 1,
      }),
    );
    // A first-boot wait of an hour would outlast the test: the control plane must be asked at once.
    const { enrolled } = await start('core-1', { firstBootWaitSeconds: '3600' });
    expect(enrolled).toMatchObject({ result: 'associated', looks: 1 });
    expect(await js.jobTargets('job-a')).toContain(js.groupArn(SITE_GROUP));
  });
});
