// Latency of one execution, end to end, on the embedded local stack over loopback:
//   notification received -> IN_PROGRESS accepted, and notification received -> SUCCEEDED accepted,
// for an in-process no-op job, 1,000 executions one after the other. Floor, measured in the same run
// and printed next to every figure as a ratio: 3 request/response round trips (describe, accepted)
// of a bare mqtt.js client on the same broker, the Jobs traffic an execution needs at the least.
// Each execution is a new continuous job for the same thing (the local stack, like AWS, gives a thing
// one execution per job), with a fresh agent started before the job is created.
// Run: npm run build && node bench/latency.mjs   (BENCH_EXECUTIONS=N to change the count)
import { performance } from 'node:perf_hooks';
import { jobsTopics } from '../dist/jobs/topics.js';
import {
  benchDirectory,
  connectBareClient,
  createContinuousJob,
  createThingGroupWith,
  NAMESPACE,
  p50p99,
  startBenchStack,
  startNoopAgent,
  until,
} from './lib.mjs';

const EXECUTIONS = Number(process.env.BENCH_EXECUTIONS ?? 1000);
const TIME_BUDGET_MS = Number(process.env.BENCH_TIME_BUDGET_MS ?? 300_000);
const THING = 'bench-core';

const { stack, iot } = await startBenchStack();
const stateDirectory = await benchDirectory('ggjobs-bench-latency-');
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

const toInProgress = [];
const toSucceeded = [];
const floor = [];
const started = Date.now();
for (let i = 0; i < EXECUTIONS && Date.now() - started < TIME_BUDGET_MS; i++) {
  const jobId = `lat-${i}`;
  const marks = {};
  const listener = await startNoopAgent({
    stack,
    thingName: THING,
    jobId,
    stateDirectory,
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
  await createContinuousJob(iot, jobId, groupArn);
  await until(() => marks.succeeded, `execution ${i} reported`);
  await listener.stop({ graceMs: 0, flushMs: 1_000 });
  toInProgress.push(marks.inProgress - marks.notified);
  toSucceeded.push(marks.succeeded - marks.notified);

  const topics = jobsTopics({ thingName: THING, jobId, namespaceId: NAMESPACE });
  await bare.subscribeAsync([topics.getAccepted, topics.getRejected], { qos: 1 });
  const t0 = performance.now();
  for (let k = 0; k < 3; k++) await roundTrip(topics.get, `${i}-${k}`);
  floor.push(performance.now() - t0);
  await bare.unsubscribeAsync([topics.getAccepted, topics.getRejected]);
}

const f = p50p99(floor);
const ip = p50p99(toInProgress);
const sc = p50p99(toSucceeded);
const fmt = (ms, base) => `${ms.toFixed(2)} ms = ${(ms / base).toFixed(2)}x floor`;
console.log(`latency, ${floor.length} sequential executions (in-process no-op job, local stack, loopback)`);
console.log(
  `floor (3 request/response round trips, bare mqtt.js): p50 ${f.p50.toFixed(2)} ms, p99 ${f.p99.toFixed(2)} ms`,
);
console.log(`notification -> IN_PROGRESS accepted: p50 ${fmt(ip.p50, f.p50)}, p99 ${fmt(ip.p99, f.p99)}`);
console.log(`notification -> SUCCEEDED accepted:   p50 ${fmt(sc.p50, f.p50)}, p99 ${fmt(sc.p99, f.p99)}`);

await bare.endAsync();
iot.destroy();
await stack.close();
