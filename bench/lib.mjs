// Shared pieces of the benchmarks: the local stack with an AWS SDK client on its control plane, an
// agent (listener + mqtt transport) running a no-op job, the bare mqtt.js client the floors are
// measured with, bounded waits and percentiles. Imports the compiled code: `npm run build` first.
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  IoTClient,
} from '@aws-sdk/client-iot';
import mqtt from 'mqtt';
import { configSchema } from '../dist/config/schema.js';
import { startListener } from '../dist/jobs/listener.js';
import { startLocalStack } from '../dist/local/index.js';
import { silentLogger } from '../dist/log.js';
import { checkTrustedChain } from '../dist/run/trusted-path.js';
import { createJobRunner } from '../dist/run/runner.js';
import { createTransport } from '../dist/transport/index.js';

// package-lock pins an AWS SDK release that supports Node 20; its notice about *future* releases
// needing Node 22 is not actionable here, so it is not printed into the benchmark's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The Jobs namespace the agent benchmarks use. */
export const NAMESPACE = 'ggjobs';
const log = silentLogger();

/** An AWS SDK IoT client on the local stack's control plane (it does not check credentials). */
export function localIotClient(stack, options = {}) {
  return new IoTClient({
    endpoint: stack.controlPlaneEndpoint,
    region: stack.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...options,
  });
}

/** The local stack on free loopback ports, publishing both notify topic forms, and a client on it. */
export async function startBenchStack() {
  const stack = await startLocalStack({ mqttPort: 0, httpPort: 0, notifyTopics: 'both' });
  return { stack, iot: localIotClient(stack) };
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A base directory the executor trusts for handler directories: they must have no group- or
 * world-writable ancestor, so /tmp never qualifies. GGJOBS_BENCH_DIR when set, else
 * node_modules/.cache/ggjobs-bench in the checkout, else ~/.cache/ggjobs-bench, whichever passes the
 * executor's own ancestor check first.
 */
export async function trustedBase() {
  const uid = process.getuid?.() ?? 0;
  const candidates = [
    ...(process.env.GGJOBS_BENCH_DIR ? [process.env.GGJOBS_BENCH_DIR] : []),
    join(ROOT, 'node_modules', '.cache', 'ggjobs-bench'),
    join(homedir(), '.cache', 'ggjobs-bench'),
  ];
  const problems = [];
  for (const candidate of candidates) {
    mkdirSync(candidate, { recursive: true, mode: 0o755 });
    const base = realpathSync(candidate);
    const problem = checkTrustedChain(base, uid);
    if (!problem) return base;
    problems.push(`${candidate}: ${problem}`);
  }
  throw new Error(`no trusted directory for handlers; set GGJOBS_BENCH_DIR (${problems.join('; ')})`);
}

/** A fresh directory (0700) under trustedBase(), removed when the process exits. */
export async function benchDirectory(prefix) {
  const dir = mkdtempSync(join(await trustedBase(), prefix));
  chmodSync(dir, 0o700);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Creates thing group `groupName` and the things `thingNames` in it (`limit` at a time); the group's ARN. */
export async function createThingGroupWith(iot, groupName, thingNames, limit = 16) {
  const group = await iot.send(new CreateThingGroupCommand({ thingGroupName: groupName }));
  await pool(thingNames, limit, async (thingName) => {
    await iot.send(new CreateThingCommand({ thingName }));
    await iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName: groupName }));
  });
  return group.thingGroupArn;
}

/** Creates the continuous, namespaced job (default: an empty document) for the thing group. */
export function createContinuousJob(iot, jobId, thingGroupArn, document = '{"steps":[]}') {
  return iot.send(
    new CreateJobCommand({
      jobId,
      targets: [thingGroupArn],
      targetSelection: 'CONTINUOUS',
      namespaceId: NAMESPACE,
      document,
    }),
  );
}

/** The no-op handler the latency/CPU benchmarks run (the executor spawns it; so does the floor). */
export const NOOP_HANDLER = 'noop.sh';
export const NOOP_DOCUMENT = JSON.stringify({
  version: '1.0',
  steps: [{ action: { name: 'Noop', type: 'runHandler', input: { handler: NOOP_HANDLER } } }],
});

/** A handler directory the executor accepts (ours, mode 0700) holding the no-op handler. */
export function noopHandlerDirectory(parent) {
  const dir = join(parent, 'handlers');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  writeFileSync(join(dir, NOOP_HANDLER), '#!/bin/sh\nexit 0\n', { mode: 0o700 });
  return dir;
}

const noopJob = async () => ({ status: 'SUCCEEDED', statusDetails: { reason: 'noop' } });

/**
 * Starts one agent for `thingName` on the stack's broker: the listener with an mqtt transport (or the
 * given, already connected `transport`) and a job that succeeds at once, or with `handlerDirectory`
 * the executor running the job document. `clientId` and `listen` are passed to the config when given.
 */
export function startNoopAgent({
  stack,
  thingName,
  jobId,
  stateDirectory,
  clientId,
  listen,
  onEvent,
  handlerDirectory,
  transport: shared,
}) {
  const config = configSchema.parse({
    thingName,
    region: 'us-east-1',
    jobId,
    namespaceId: NAMESPACE,
    stateDirectory,
    logLevel: 'silent',
    ...(listen === undefined ? {} : { listen }),
    transport: { kind: 'mqtt', url: stack.mqttUrl, ...(clientId === undefined ? {} : { clientId }) },
    ...(handlerDirectory === undefined ? {} : { executor: { handlerDirectory } }),
  });
  const transport = shared ?? createTransport(config.transport, { thingName, log });
  // With a handler directory: the real executor, spawning the handler; without: an in-process no-op.
  const runJob = handlerDirectory === undefined ? noopJob : createJobRunner(config.executor);
  return startListener({ config, transport, runJob, log, onEvent });
}

/** A bare mqtt.js client for the floors, with TCP_NODELAY as the agent's transport sets it. */
export async function connectBareClient(url, clientId) {
  const client = await mqtt.connectAsync(url, { clientId, reconnectPeriod: 0 });
  client.stream.setNoDelay(true);
  return client;
}

/** Polls `check` every `intervalMs` until it returns a truthy value (resolved with it); rejects after `ms`. */
export function until(check, what, ms = 10_000, intervalMs = 1) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const tick = () => {
      const value = check();
      if (value) return resolve(value);
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, intervalMs);
    };
    tick();
  });
}

/** Runs fn over items with at most `limit` in flight. */
export async function pool(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The p-th percentile of an ascending array (NaN when it is empty). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** p50 and p99 of the values. */
export function p50p99(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}
