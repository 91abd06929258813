// Two agents for one thing. On separate state directories (a `ggjobs start` run by hand beside the
// component, a cloned image): both hear every notification and both claim, but only the one whose
// claim id the service shows runs the execution; the other leaves it alone and reports nothing. On
// one state directory: the second agent is refused at once (agent.lock), and a stale lock left by a
// killed agent is taken over. Real `ggjobs start` processes; "ran" is what the handler wrote.
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeJobExecutionCommand } from '@aws-sdk/client-iot';
import { connectAsync } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  deviceConfig,
  type JobsStack,
  NAMESPACE,
  saveAtomically,
  spawnGgjobs,
  THING,
  waitFor,
} from './helpers.js';
import {
  observeUpdates,
  recordDocument,
  runs,
  reliabilityDevice,
  type ReliabilityDevice,
} from './reliability-helpers.js';

const WAIT_MS = 30_000;
const JOB = 'job-twice';
const EXECUTIONS = 32;

describe('two agents for one thing', () => {
  let device: ReliabilityDevice;
  let js: JobsStack;
  let work: string;
  let handlers: string;
  let runsFile: string;
  const agents: AgentProcess[] = [];

  beforeEach(async () => {
    device = await reliabilityDevice('ggjobs-two-agents-', JOB, recordDocument(0));
    ({ js, work, handlers, runsFile } = device);
  });

  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop('SIGKILL');
    await device.close();
  });

  async function configFile(name: string, stateDirectory: string, clientId: string): Promise<string> {
    const file = join(work, `${name}.yaml`);
    const base = deviceConfig(js, work, handlers);
    await saveAtomically(file, {
      ...base,
      jobId: JOB,
      stateDirectory,
      transport: { ...(base.transport as object), clientId },
      executor: { handlerDirectory: handlers, environment: { RUNS_FILE: runsFile } },
    });
    return file;
  }

  /** The execution's status, undefined while it does not exist yet. */
  const status = async (executionNumber: number): Promise<string | undefined> => {
    try {
      const res = await js.iot.send(
        new DescribeJobExecutionCommand({ jobId: JOB, thingName: THING, executionNumber }),
      );
      return res.execution?.status;
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  };

  it('on separate state directories: 30+ executions, each run exactly once, all terminal, loser silent', async () => {
    const observer = await observeUpdates(js, JOB);
    const a = spawnGgjobs(['start', '--config', await configFile('a', join(work, 'state-a'), 'core-1-a')]);
    const b = spawnGgjobs(['start', '--config', await configFile('b', join(work, 'state-b'), 'core-1-b')]);
    agents.push(a, b);
    // The stack announces each execution on every notify form; each is announced a second time here.
    const announcer = await connectAsync(js.stack.mqttUrl, { clientId: 'announcer' });
    const announceAgain = async (n: number) => {
      const thing = `$aws/things/${THING}/jobs`;
      const summary = { jobId: JOB, executionNumber: n, versionNumber: 1 };
      await announcer.publishAsync(`${thing}/${JOB}/notify-namespace-${NAMESPACE}/`, JSON.stringify(summary));
      await announcer.publishAsync(
        `${thing}/notify-namespace-${NAMESPACE}`,
        JSON.stringify({ jobs: { QUEUED: [summary] } }),
      );
      await announcer.publishAsync(
        `${thing}/notify-next-namespace-${NAMESPACE}`,
        JSON.stringify({ execution: summary }),
      );
    };
    const numbers: number[] = [1];
    for (let i = 1; i <= EXECUTIONS; i++) {
      const n = numbers[numbers.length - 1]!;
      await waitFor(async () => (await status(n)) === 'SUCCEEDED', `execution ${n} to be terminal`, WAIT_MS);
      if (i < EXECUTIONS) {
        numbers.push(js.stack.queueExecutionAgain(JOB, THING));
        await announceAgain(numbers[numbers.length - 1]!);
      }
    }
    // Every execution ran once, by exactly one of the agents.
    const ran = runs(runsFile);
    expect([...ran].sort()).toEqual(numbers.map((n) => `run ${n}`).sort());
    const ranBy = (agent: AgentProcess) =>
      new Set(
        agent
          .logLines()
          .filter((l) => l.msg === 'running job')
          .map((l) => l.executionNumber as number),
      );
    const byA = ranBy(a);
    const byB = ranBy(b);
    expect([...byA].filter((n) => byB.has(n))).toEqual([]);
    expect(byA.size + byB.size).toBe(EXECUTIONS);
    // Both claimed (each execution was a race), and no agent sent a status for an execution it lost.
    const claims = observer.updates.filter((u) => u.status === 'IN_PROGRESS');
    expect(claims.length).toBeGreaterThan(EXECUTIONS);
    const finals = observer.updates.filter((u) => u.status !== 'IN_PROGRESS');
    expect(finals.every((u) => u.status === 'SUCCEEDED')).toBe(true);
    expect(new Set(finals.map((u) => u.executionNumber)).size).toBe(EXECUTIONS);
    await observer.close();
    await announcer.endAsync();
    expect(await a.stop('SIGTERM')).toBe(0);
    expect(await b.stop('SIGTERM')).toBe(0);
  });

  it('on one state directory: the second agent exits 1 at once naming the directory and PID; status still works', async () => {
    const state = join(work, 'state');
    const file = await configFile('a', state, 'core-1-a');
    const first = spawnGgjobs(['start', '--config', file]);
    agents.push(first);
    await waitFor(async () => (await status(1)) === 'SUCCEEDED', 'execution 1 SUCCEEDED', WAIT_MS);
    expect((await readFile(join(state, 'agent.lock'), 'utf8')).trim()).toBe(String(first.child.pid));

    const second = spawnGgjobs(['start', '--config', await configFile('b', state, 'core-1-b')]);
    agents.push(second);
    expect(await second.waitExit(WAIT_MS)).toBe(1);
    expect(second.stderr).toContain(
      `the state directory ${state} is in use by another ggjobs agent (PID ${first.child.pid}`,
    );

    const report = spawnGgjobs(['status', '--config', file]);
    expect(await report.waitExit(WAIT_MS)).toBe(0);
    expect(report.stdout).toMatch(/#1\s+attempt 1\s+SUCCEEDED/);

    // The first agent was not disturbed; it releases the lock when it stops.
    js.stack.queueExecutionAgain(JOB, THING);
    await waitFor(async () => (await status(2)) === 'SUCCEEDED', 'execution 2 SUCCEEDED', WAIT_MS);
    expect(await first.stop('SIGTERM')).toBe(0);
    await expect(readFile(join(state, 'agent.lock'), 'utf8')).rejects.toThrow(/ENOENT/);
    expect(runs(runsFile)).toEqual(['run 1', 'run 2']);
  });

  it('takes over a stale lock left by an agent that died', async () => {
    const state = join(work, 'state');
    const file = await configFile('a', state, 'core-1-a');
    // A lock naming a PID that no longer exists, as after a power cut.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    await mkdir(state, { recursive: true });
    await writeFile(join(state, 'agent.lock'), `${dead}\n`);
    const agent = spawnGgjobs(['start', '--config', file]);
    agents.push(agent);
    await waitFor(async () => (await status(1)) === 'SUCCEEDED', 'execution 1 SUCCEEDED', WAIT_MS);
    expect((await readFile(join(state, 'agent.lock'), 'utf8')).trim()).toBe(String(agent.child.pid));
  });
});
