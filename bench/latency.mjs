// Latency of one execution, end to end, on the embedded local stack over loopback: notification
// received -> IN_PROGRESS accepted and -> SUCCEEDED accepted, the executor spawning a no-op handler
// (handlers/noop.sh: `exit 0`), N executions one after the other (default 1,000; BENCH_EXECUTIONS).
// Floor F, measured in the same run, per execution: 3 request/response round trips of a bare mqtt.js
// client on the same broker (the Jobs traffic an execution needs at the least; subscribed at QoS 0 and
// publishing at QoS 1, as the agent's mqtt transport does) + 2 fsyncs of a small
// file (what durably recording "started" and "finished" needs at the least) + 1 spawn of the same
// handler. Its parts are printed. Each execution is a new continuous job for the same thing (the
// service gives a thing one execution per job), with a fresh agent started before the job is created.
// Run: npm run build && node bench/latency.mjs
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jobsTopics } from '../dist/jobs/topics.js';
import {
  benchDirectory,
  connectBareClient,
  createContinuousJob,
  createThingGroupWith,
  NAMESPACE,
  NOOP_DOCUMENT,
  NOOP_HANDLER,
  noopHandlerDirectory,
  p50p99,
  startBenchStack,
  startNoopAgent,
  until,
} from './lib.mjs';
import { figure, saveResult } from './results.mjs';

const EXECUTIONS = Number(process.env.BENCH_EXECUTIONS ?? 1000);
const TIME_BUDGET_MS = Number(process.env.BENCH_TIME_BUDGET_MS ?? 300_000);
const THING = 'bench-core';

const { stack, iot } = await startBenchStack();
const work = await benchDirectory('ggjobs-bench-latency-');
const stateDirectory = join(work, 'state');
const handlerDirectory = noopHandlerDirectory(work);
const groupArn = await createThingGroupWith(iot, 'bench-group', [THING]);

// The floor's client: request/response round trips by hand, correlated by clientToken.
const bare = await connectBareClient(stack.mqttUrl, 'bench-floor');
const waiting = new Map();
bare.on('message', (_topic, payload) => {
  const token = JSON.parse(payload.toString()).clientToken;
  waiting.get(token)?.();
  waiting.delete(token);
});
async function roundTrip(topic, n) {
  const clientToken = `floor-${n}`;
  const replied = new Promise((resolve) => waiting.set(clientToken, resolve));
  await bare.publishAsync(topic, JSON.stringify({ clientToken }), { qos: 1 });
  await replied;
}
const fsyncFile = join(work, 'fsync-floor');
function fsyncSmallFile(i) {
  const fd = openSync(fsyncFile, 'w');
  try {
    writeSync(fd, `{"n":${i}}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
function spawnHandler() {
  return new Promise((resolve, reject) => {
    const child = spawn(join(handlerDirectory, NOOP_HANDLER), [], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', resolve);
  });
}

const toInProgress = [];
const toSucceeded = [];
const parts = { roundTrips: [], fsyncs: [], spawn: [], total: [] };
const started = Date.now();
for (let i = 0; i < EXECUTIONS && Date.now() - started < TIME_BUDGET_MS; i++) {
  const jobId = `lat-${i}`;
  const marks = {};
  const listener = await startNoopAgent({
    stack,
    thingName: THING,
    jobId,
    stateDirectory,
    handlerDirectory,
    clientId: `bench-agent-${i}`,
    onEvent: (e) => {
      if (e.type === 'notification' && e.mentionsJob && marks.notified === undefined)
        marks.notified = performance.now();
      if (e.type === 'synced') marks.synced = true;
      if (e.type === 'transition' && e.to === 'started') marks.inProgress = performance.now();
      if (e.type === 'transition' && e.to === 'reported') marks.succeeded = performance.now();
    },
  });
  await until(() => marks.synced, 'first describe');
  await createContinuousJob(iot, jobId, groupArn, NOOP_DOCUMENT);
  await until(() => marks.succeeded, `execution ${i} reported`);
  await listener.stop({ graceMs: 0, flushMs: 1_000 });
  toInProgress.push(marks.inProgress - marks.notified);
  toSucceeded.push(marks.succeeded - marks.notified);

  const topics = jobsTopics({ thingName: THING, jobId, namespaceId: NAMESPACE });
  await bare.subscribeAsync([topics.getAccepted, topics.getRejected], { qos: 0 });
  const t0 = performance.now();
  for (let k = 0; k < 3; k++) await roundTrip(topics.get, `${i}-${k}`);
  const t1 = performance.now();
  fsyncSmallFile(2 * i);
  fsyncSmallFile(2 * i + 1);
  const t2 = performance.now();
  await spawnHandler();
  const t3 = performance.now();
  parts.roundTrips.push(t1 - t0);
  parts.fsyncs.push(t2 - t1);
  parts.spawn.push(t3 - t2);
  parts.total.push(t3 - t0);
  await bare.unsubscribeAsync([topics.getAccepted, topics.getRejected]);
}

const f = p50p99(parts.total);
const ip = p50p99(toInProgress);
const sc = p50p99(toSucceeded);
const fmt = (ms, base) => `${ms.toFixed(2)} ms = ${(ms / base).toFixed(2)}x F`;
const p50 = (values) => p50p99(values).p50.toFixed(2);
console.log(
  `latency, ${parts.total.length} sequential executions (no-op handler spawned, local stack, loopback)`,
);
console.log(
  `F: p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms; parts p50: 3 round trips ${p50(parts.roundTrips)} ms, 2 fsyncs ${p50(parts.fsyncs)} ms, 1 spawn ${p50(parts.spawn)} ms`,
);
console.log(`notification -> IN_PROGRESS accepted: p50 ${fmt(ip.p50, f.p50)}, p99 ${fmt(ip.p99, f.p99)}`);
console.log(`notification -> SUCCEEDED accepted:   p50 ${fmt(sc.p50, f.p50)}, p99 ${fmt(sc.p99, f.p99)}`);
saveResult('latency', {
  executions: parts.total.length,
  floorParts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, p50p99(v)])),
  samples: { toSucceeded, floor: parts.total },
  figures: [
    figure('latency notification -> SUCCEEDED accepted, p50 (ms)', sc.p50, f.p50, 'ms', { maxRatio: 1.5 }),
    figure('latency notification -> SUCCEEDED accepted, p99 (ms)', sc.p99, f.p99, 'ms', { maxRatio: 3 }),
    figure('latency notification -> IN_PROGRESS accepted, p50 (ms)', ip.p50, f.p50, 'ms'),
  ],
});

await bare.endAsync();
iot.destroy();
await stack.close();
