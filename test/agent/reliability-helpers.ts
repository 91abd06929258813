// Shared pieces of the reliability tests (issue: exactly once beyond SIGKILL): handlers that record
// every run in a file (so "ran twice" is a fact on disk, not a log line), the AWS-Reboot-like document,
// an MQTT observer of every Jobs update the agents send, and the journal record on disk.
import { readFileSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateJobCommand } from '@aws-sdk/client-iot';
import { connectAsync, type MqttClient } from 'mqtt';
import { isProcessAlive } from '../../src/run/spawn.js';
import { journalRecordOnDisk } from '../jobs/helpers.js';
import { safeTempDir } from '../support/safe-dir.js';
import { type JobsStack, NAMESPACE, SEED_GROUP, SITE_GROUP, startJobsStack, THING } from './helpers.js';

/**
 * Handlers (mode 0700, in a 0700 directory, as the executor requires). Each appends a line
 * "<name> <executionNumber>" to $RUNS_FILE when it starts:
 *   reboot.sh   asks for a reboot (writes its PID to $RUNS_FILE.reboot-pid) and waits for it (sleeps)
 *   after.sh    the step after the reboot
 *   record.sh   sleeps $1 seconds (default 0), then succeeds
 *   stubborn.sh ignores SIGTERM (so does its child), writes its PID to $RUNS_FILE.stubborn-pid, sleeps
 */
export async function reliabilityHandlers(work: string): Promise<{ dir: string; runsFile: string }> {
  const dir = join(work, 'handlers');
  await mkdir(dir, { mode: 0o700, recursive: true });
  await chmod(dir, 0o700);
  const runsFile = join(work, 'runs.txt');
  const scripts: Record<string, string> = {
    'reboot.sh': `echo "reboot $GGJOBS_EXECUTION_NUMBER" >> "$RUNS_FILE"\necho $$ > "$RUNS_FILE.reboot-pid"\nexec sleep 300\n`,
    'after.sh': `echo "after $GGJOBS_EXECUTION_NUMBER" >> "$RUNS_FILE"\n`,
    'record.sh': `echo "run $GGJOBS_EXECUTION_NUMBER" >> "$RUNS_FILE"\nsleep "\${2:-0}"\n`,
    'stubborn.sh': `trap '' TERM\necho $$ > "$RUNS_FILE.stubborn-pid"\necho "stubborn $GGJOBS_EXECUTION_NUMBER" >> "$RUNS_FILE"\nsleep 300\n`,
  };
  for (const [name, body] of Object.entries(scripts)) {
    await writeFile(join(dir, name), `#!/bin/sh\n${body}`, { mode: 0o700 });
    await chmod(join(dir, name), 0o700);
  }
  return { dir, runsFile };
}

/** Lines of the runs file ("<handler> <executionNumber>"). */
export function runs(runsFile: string): string[] {
  try {
    return readFileSync(runsFile, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

export function pidFrom(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Kills a process if it still lives (the "power cut" of the handler); true when it was alive. */
export function killIfAlive(pid: number | undefined): boolean {
  if (pid === undefined || !isProcessAlive(pid)) return false;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return false;
  }
  return true;
}

/** AWS-Reboot followed by one more step: the reboot step is resumable (reboot.sh). */
export const REBOOT_THEN_AFTER = {
  version: '1.0',
  steps: [
    { action: { name: 'Reboot', type: 'runHandler', input: { handler: 'reboot.sh' } } },
    { action: { name: 'After', type: 'runHandler', input: { handler: 'after.sh' } } },
  ],
};

export function recordDocument(sleepSeconds = 0): object {
  return {
    version: '1.0',
    steps: [
      {
        action: {
          name: 'Record',
          type: 'runHandler',
          input: { handler: 'record.sh', args: [String(sleepSeconds)] },
        },
      },
    ],
  };
}

export const STUBBORN_DOCUMENT = {
  version: '1.0',
  steps: [{ action: { name: 'Stubborn', type: 'runHandler', input: { handler: 'stubborn.sh' } } }],
};

/** A continuous job in NAMESPACE with `document`, targeting the seed group (the agent enrolls its own). */
export async function createJobWithDocument(js: JobsStack, jobId: string, document: unknown): Promise<void> {
  await js.createGroup(SEED_GROUP);
  await js.iot.send(
    new CreateJobCommand({
      jobId,
      targets: [js.groupArn(SEED_GROUP)],
      targetSelection: 'CONTINUOUS',
      namespaceId: NAMESPACE,
      document: JSON.stringify(document),
    }),
  );
}

export interface ObservedUpdate {
  jobId: string;
  status: string;
  statusDetails?: Record<string, string>;
  executionNumber?: number;
  expectedVersion?: number;
}

/** Every UpdateJobExecution request any agent publishes for THING and `jobId`, as seen on the broker
 *  (an exact topic: the local broker does not match `+` right after a `$aws` level). */
export async function observeUpdates(
  js: JobsStack,
  jobId: string,
): Promise<{ updates: ObservedUpdate[]; close(): Promise<void> }> {
  const client: MqttClient = await connectAsync(js.stack.mqttUrl, {
    clientId: `observer-${Math.random().toString(36).slice(2)}`,
    reconnectPeriod: 200,
  });
  const updates: ObservedUpdate[] = [];
  const filter = `$aws/things/${THING}/jobs/${jobId}/namespace-${NAMESPACE}/update`;
  client.on('message', (_topic, payload) => {
    try {
      updates.push({ jobId, ...(JSON.parse(payload.toString()) as Omit<ObservedUpdate, 'jobId'>) });
    } catch {
      // not JSON: not an update the agent sent
    }
  });
  client.on('connect', () => void client.subscribeAsync(filter, { qos: 1 }).catch(() => undefined));
  await client.subscribeAsync(filter, { qos: 1 });
  return { updates, close: () => client.endAsync(true) };
}

/** The journal record of an execution, as the agent wrote it (undefined when there is none). */
export function journalRecord(
  stateDirectory: string,
  jobId: string,
  executionNumber: number,
): Record<string, unknown> | undefined {
  return journalRecordOnDisk(
    stateDirectory,
    { thingName: THING, namespaceId: NAMESPACE, jobId },
    executionNumber,
  );
}

/** What the reliability tests start from: a local stack, the device's thing, one job, the handlers. */
export interface ReliabilityDevice {
  js: JobsStack;
  /** A trusted work directory (handler directories must not sit below /tmp). */
  work: string;
  handlers: string;
  runsFile: string;
  close(): Promise<void>;
}

/** THING in SITE_GROUP, a continuous job `jobId` running `document`, and the recording handlers. */
export async function reliabilityDevice(
  prefix: string,
  jobId: string,
  document: object,
): Promise<ReliabilityDevice> {
  const js = await startJobsStack();
  const work = await safeTempDir(prefix);
  const { dir: handlers, runsFile } = await reliabilityHandlers(work);
  await js.createThing(THING, [SITE_GROUP]);
  await createJobWithDocument(js, jobId, document);
  return {
    js,
    work,
    handlers,
    runsFile,
    async close() {
      await js.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}
