// Shared fixtures for the agent/supervisor tests: the local AWS IoT stack seeded through the real AWS
// SDK (things, groups, continuous namespaced jobs whose document runs the bundled echo.sh), a handler
// directory the executor accepts, config files written the way editors save them, and the compiled
// `ggjobs` CLI as a child process with a controlled environment.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { chmod, copyFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  IoTClient,
  type JobExecution,
} from '@aws-sdk/client-iot';
import { stringify } from 'yaml';
import { type LocalStack, startLocalStack } from '../../src/local/index.js';
import { Writable } from 'node:stream';
import { createLogger, type Logger, silentLogger } from '../../src/log.js';
import type { JobContext, JobOutcome, RunJob } from '../../src/run/types.js';
import { ROOT } from '../cli/run-cli.js';
import { safeTempDir } from '../support/safe-dir.js';

export { waitFor } from '../greengrass/helpers.js';

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const NAMESPACE = 'field-ops';
export const THING = 'core-1';
/** The group the device enrolls; no job targets it until the agent associates it. */
export const SITE_GROUP = 'site-a';
/** The group every test job is created with (nobody is in it), so jobs start with no execution. */
export const SEED_GROUP = 'seed';

export interface JobsStack {
  stack: LocalStack;
  iot: IoTClient;
  groupArn(name: string): string;
  createThing(name: string, groups?: string[]): Promise<void>;
  createGroup(name: string): Promise<void>;
  addToGroup(thingName: string, groupName: string): Promise<void>;
  /** A continuous (default) job in NAMESPACE targeting SEED_GROUP whose one step runs echo.sh `word`. */
  createJob(
    jobId: string,
    options?: { targetSelection?: 'CONTINUOUS' | 'SNAPSHOT'; word?: string },
  ): Promise<void>;
  jobTargets(jobId: string): Promise<string[]>;
  /** The thing's execution of the job, undefined while there is none. */
  execution(jobId: string, thingName?: string): Promise<JobExecution | undefined>;
  close(): Promise<void>;
}

export function echoDocument(word: string): object {
  return {
    version: '1.0',
    includeStdOut: 'true',
    steps: [{ action: { name: 'Say', type: 'runHandler', input: { handler: 'echo.sh', args: [word] } } }],
  };
}

export async function startJobsStack(): Promise<JobsStack> {
  const stack = await startLocalStack({ mqttPort: 0, httpPort: 0, logger: silentLogger() });
  const iot = new IoTClient({
    endpoint: stack.controlPlaneEndpoint,
    region: stack.region,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const groupArn = (name: string) => `arn:aws:iot:${stack.region}:${stack.accountId}:thinggroup/${name}`;
  const groups = new Set<string>();
  const createGroup = async (name: string) => {
    if (groups.has(name)) return;
    await iot.send(new CreateThingGroupCommand({ thingGroupName: name }));
    groups.add(name);
  };
  const addToGroup = async (thingName: string, groupName: string) => {
    await createGroup(groupName);
    await iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName: groupName }));
  };
  return {
    stack,
    iot,
    groupArn,
    createGroup,
    addToGroup,
    async createThing(name, memberOf = []) {
      await iot.send(new CreateThingCommand({ thingName: name }));
      for (const group of memberOf) await addToGroup(name, group);
    },
    async createJob(jobId, options = {}) {
      await createGroup(SEED_GROUP);
      await iot.send(
        new CreateJobCommand({
          jobId,
          targets: [groupArn(SEED_GROUP)],
          targetSelection: options.targetSelection ?? 'CONTINUOUS',
          namespaceId: NAMESPACE,
          document: JSON.stringify(echoDocument(options.word ?? jobId)),
        }),
      );
    },
    async jobTargets(jobId) {
      return (await iot.send(new DescribeJobCommand({ jobId }))).job?.targets ?? [];
    },
    async execution(jobId, thingName = THING) {
      try {
        return (await iot.send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution;
      } catch (err) {
        if ((err as Error).name === 'ResourceNotFoundException') return undefined;
        throw err;
      }
    },
    async close() {
      iot.destroy();
      await stack.close();
    },
  };
}

/**
 * A handler directory the executor accepts (owned by us, mode 0700, every ancestor trusted: see
 * test/support/safe-dir.ts) holding the bundled echo.sh. `work` names it; the test run's teardown
 * removes it.
 */
export async function handlerDirectory(work: string): Promise<string> {
  const dir = await safeTempDir(`handlers-${basename(work)}-`, 0o700);
  await copyFile(join(ROOT, 'handlers', 'echo.sh'), join(dir, 'echo.sh'));
  await chmod(join(dir, 'echo.sh'), 0o700);
  return dir;
}

/** The device's config file contents against `js` (mqtt transport unless `transport` is given). */
export function deviceConfig(
  js: JobsStack,
  work: string,
  handlers: string,
  patch: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    thingName: THING,
    region: js.stack.region,
    jobId: 'job-a',
    namespaceId: NAMESPACE,
    stateDirectory: join(work, 'state'),
    logLevel: 'info',
    transport: { kind: 'mqtt', url: js.stack.mqttUrl },
    enroll: {
      thingGroupName: SITE_GROUP,
      endpoint: js.stack.controlPlaneEndpoint,
      retry: { maxAttempts: '3', baseDelayMs: '20', maxDelayMs: '100' },
      // One device per group here: nobody else to wait for at a first boot.
      firstBootWaitSeconds: '0',
    },
    listen: { shutdownGraceSeconds: '5', requestTimeoutMs: '5000' },
    executor: { handlerDirectory: handlers },
    ...patch,
  };
}

/** Saves the way most editors do: a temporary file next to it, renamed over the original. */
export async function saveAtomically(file: string, content: string | object): Promise<void> {
  const text = typeof content === 'string' ? content : stringify(content);
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temp, text);
  await rename(temp, file);
}

export interface AgentProcess {
  child: ChildProcessWithoutNullStreams;
  /** stdout and stderr so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** The pino JSON log lines on stderr so far (other lines skipped). */
  logLines(): Array<Record<string, unknown> & { msg?: string }>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Waits (bounded) for the process to end by itself; SIGKILL (and null) when it does not. */
  waitExit(timeoutMs?: number): Promise<number | null>;
  /** Sends `signal` and waits (bounded) for the exit; SIGKILL when it does not come. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/**
 * `node bin/ggjobs.js ...args` (or another `entry`, e.g. the component bundle) with only PATH, HOME,
 * local AWS credentials and `env` in its environment.
 */
export function spawnGgjobs(
  args: string[],
  env: Record<string, string> = {},
  entry = join(ROOT, 'bin/ggjobs.js'),
): AgentProcess {
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: tmpdir(),
      NO_COLOR: '1',
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    logLines() {
      return stderr.split('\n').flatMap((line) => {
        if (!line.startsWith('{')) return [];
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
    },
    exited,
    async waitExit(timeoutMs = 30_000) {
      const bound = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(bound);
      return code;
    },
    async stop(signal = 'SIGTERM', timeoutMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const bound = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(bound);
      return code;
    },
  };
}

/**
 * A Greengrass component configuration as a deployment would hold it (recipe-style strings, the
 * nucleus's accessControl alongside), for the agent running through the IPC test server.
 */
export function componentConfiguration(
  js: JobsStack,
  work: string,
  handlers: string,
  patch: Record<string, unknown> = {},
): Record<string, unknown> {
  const { thingName: _thing, region: _region, ...config } = deviceConfig(js, work, handlers);
  return {
    ...config,
    transport: { kind: 'greengrass-ipc' },
    accessControl: {
      'aws.greengrass.ipc.mqttproxy': {
        'io.ggjobs.JobsAgent:mqttproxy:subscribe': {
          operations: ['aws.greengrass#SubscribeToIoTCore'],
          resources: ['$aws/things/{iot:thingName}/jobs/#'],
        },
      },
    },
    ...patch,
  };
}

/** The environment the nucleus gives a component: IPC socket + SVCUID, thing name and region. */
export function componentEnvironment(
  js: JobsStack,
  socketPath: string,
  svcuid: string,
): Record<string, string> {
  return {
    AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: socketPath,
    SVCUID: svcuid,
    AWS_IOT_THING_NAME: THING,
    AWS_REGION: js.stack.region,
  };
}

/** Where the IPC test server lets Jobs traffic through (what the recipe's accessControl allows). */
export const JOBS_ACCESS = { subscribe: ['$aws/things/+/jobs/#'], publish: ['$aws/things/+/jobs/#'] };

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** A logger whose JSON lines the test can read back. */
export function captureLogger(level = 'info'): {
  log: Logger;
  lines(): LogLine[];
  find(msg: RegExp): LogLine | undefined;
} {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      for (const line of chunk.toString().split('\n'))
        if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      callback();
    },
  });
  const log = createLogger({ level, destination, pretty: false });
  return { log, lines: () => [...lines], find: (msg) => lines.find((l) => msg.test(String(l.msg))) };
}

/** A RunJob that records each execution and, while `hold` is on, waits until release() to succeed. */
export function gatedRunJob(): {
  runJob: RunJob;
  runs: Array<{ jobId: string; executionNumber: number }>;
  hold(): void;
  release(): void;
} {
  const runs: Array<{ jobId: string; executionNumber: number }> = [];
  let gate: Promise<void> | undefined;
  let open: () => void = () => {};
  return {
    runs,
    hold() {
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
    },
    release() {
      open();
      gate = undefined;
    },
    runJob: async (_document: unknown, context: JobContext): Promise<JobOutcome> => {
      runs.push({ jobId: context.jobId, executionNumber: context.executionNumber });
      if (gate) await gate;
      return { status: 'SUCCEEDED', statusDetails: { ranAs: context.jobId } };
    },
  };
}

/** Sets local AWS credentials in this test process (enroll's client reads the default chain). */
export function useLocalCredentials(): () => void {
  const saved = {
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
    AWS_EC2_METADATA_DISABLED: process.env.AWS_EC2_METADATA_DISABLED,
  };
  process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}
