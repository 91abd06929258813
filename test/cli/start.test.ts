// `ggjobs start --config FILE` as a device runs it: the compiled CLI in a child process against the
// local AWS IoT stack (mqtt transport). It enrolls, runs the job's execution, applies edits of the
// config file while running, stops on SIGTERM with exit 0, and exits 2 / 3 on a bad config / job.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  deviceConfig,
  handlerDirectory,
  type JobsStack,
  SITE_GROUP,
  saveAtomically,
  spawnGgjobs,
  startJobsStack,
  THING,
  waitFor,
} from '../agent/helpers.js';

const WAIT_MS = 30_000;

describe('ggjobs start', () => {
  let js: JobsStack;
  let work: string;
  let handlers: string;
  let agent: AgentProcess | undefined;

  beforeEach(async () => {
    js = await startJobsStack();
    work = await mkdtemp(join(tmpdir(), 'ggjobs-cli-start-'));
    handlers = await handlerDirectory(work);
  });

  afterEach(async () => {
    await agent?.stop('SIGKILL');
    agent = undefined;
    await js.close();
    await rm(work, { recursive: true, force: true });
  });

  const logged = (msg: string | RegExp) =>
    agent?.logLines().find((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg))));

  it('enrolls the group, runs the queued execution to SUCCEEDED, and exits 0 on SIGTERM', async () => {
    await js.createThing(THING, [SITE_GROUP]);
    await js.createJob('job-a', { word: 'hello-from-start' });
    const file = join(work, 'ggjobs.yaml');
    await saveAtomically(file, deviceConfig(js, work, handlers));

    agent = spawnGgjobs(['start', '--config', file]);
    // Enrolled: the device's group is now a target of the job (read back through the SDK).
    await waitFor(
      async () => (await js.jobTargets('job-a')).includes(js.groupArn(SITE_GROUP)),
      'the group to be a target of job-a',
      WAIT_MS,
    );
    const execution = await waitFor(
      async () => {
        const e = await js.execution('job-a');
        return e?.status === 'SUCCEEDED' ? e : undefined;
      },
      'the execution to be SUCCEEDED',
      WAIT_MS,
    );
    expect(execution.statusDetails?.detailsMap?.stdout).toContain('hello-from-start');

    expect(await agent.stop('SIGTERM')).toBe(0);
    expect(logged('enroll: associated')).toMatchObject({ jobId: 'job-a', result: 'associated' });
    expect(logged('stopping')).toMatchObject({ signal: 'SIGTERM' });
    expect(logged('stopped')).toBeDefined();
  });

  it('exits 2 naming the key when the configuration is invalid', async () => {
    const file = join(work, 'ggjobs.yaml');
    await saveAtomically(file, deviceConfig(js, work, handlers, { listen: { requestTimeoutMs: 'soon' } }));
    agent = spawnGgjobs(['start', '--config', file]);
    expect(await agent.waitExit(WAIT_MS)).toBe(2);
    expect(agent.stderr).toMatch(
      /listen\.requestTimeoutMs "soon": must be a whole number from 100 to 300000/,
    );
    expect(js.stack.requestCount('DescribeJob')).toBe(0);
  });

  it('exits 3 when the configured job cannot take the group (a SNAPSHOT job)', async () => {
    await js.createThing(THING, [SITE_GROUP]);
    await js.createJob('job-snap', { targetSelection: 'SNAPSHOT' });
    const file = join(work, 'ggjobs.yaml');
    await saveAtomically(file, deviceConfig(js, work, handlers, { jobId: 'job-snap' }));
    agent = spawnGgjobs(['start', '--config', file]);
    expect(await agent.waitExit(WAIT_MS)).toBe(3);
    expect(agent.stderr).toMatch(/ggjobs: .*job-snap/);
    expect(agent.stderr).toMatch(/SNAPSHOT|continuous/i);
    expect(await js.jobTargets('job-snap')).not.toContain(js.groupArn(SITE_GROUP));
  });

  it('applies config file edits while running: a broken edit is refused, a new jobId is enrolled and run', async () => {
    // The thing is not in the site group yet, so enrolling job-a queues nothing at first.
    await js.createThing(THING);
    await js.createGroup(SITE_GROUP);
    await js.createJob('job-a', { word: 'from-job-a' });
    await js.createJob('job-b', { word: 'from-job-b' });
    const file = join(work, 'ggjobs.yaml');
    await saveAtomically(file, deviceConfig(js, work, handlers));
    agent = spawnGgjobs(['start', '--config', file]);
    await waitFor(() => logged('listening for job executions'), 'the agent to listen', WAIT_MS);
    expect(await js.jobTargets('job-a')).toContain(js.groupArn(SITE_GROUP));

    // An invalid value: refused with the config error text, and the agent keeps job-a.
    await saveAtomically(file, deviceConfig(js, work, handlers, { jobId: 'job b!' }));
    const refusal = await waitFor(() => logged(/config file change refused/), 'the refusal', WAIT_MS);
    expect(refusal.msg).toMatch(/jobId "job b!": must be 1-64 characters of \[a-zA-Z0-9_-\]/);
    expect(refusal.level).toBe(50);
    await js.addToGroup(THING, SITE_GROUP);
    await waitFor(
      async () => (await js.execution('job-a'))?.status === 'SUCCEEDED',
      "job-a's execution to be SUCCEEDED under the old configuration",
      WAIT_MS,
    );

    // A valid edit: the agent re-enrolls for job-b (same process) and runs its execution.
    await saveAtomically(file, deviceConfig(js, work, handlers, { jobId: 'job-b' }));
    const execution = await waitFor(
      async () => {
        const e = await js.execution('job-b');
        return e?.status === 'SUCCEEDED' ? e : undefined;
      },
      "job-b's execution to be SUCCEEDED",
      WAIT_MS,
    );
    expect(execution.statusDetails?.detailsMap?.stdout).toContain('from-job-b');
    expect(await js.jobTargets('job-b')).toContain(js.groupArn(SITE_GROUP));
    const restart = logged(/configuration changed: stopping the agent/);
    expect(restart).toMatchObject({ changed: ['jobId'], reenroll: true });
    expect(agent.child.exitCode).toBeNull(); // never restarted as a process

    expect(await agent.stop('SIGTERM')).toBe(0);
  });
});
