// Throughput of a fleet: 1,000 things, each with its own agent (listener + mqtt.js transport, its own
// state directory), all in one process and on one local stack over loopback, all in one thing group.
// One continuous, namespaced job is created for the group, which queues 1,000 executions at once
// (one per thing: AWS, and the local stack, give a thing one execution per job, so 1,000 executions
// means 1,000 things; repeating executions for one thing is not something the service does).
// Measured: executions per second from CreateJob to the last SUCCEEDED accepted. Floor, same run:
// the same number of bare mqtt.js clients, each doing the 3 request/response round trips an execution
// needs at the least (describe, IN_PROGRESS, SUCCEEDED: here 3 describes), all at once.
// Run: npm run build && node bench/throughput.mjs   (BENCH_THINGS=N to change the fleet size)
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jobsTopics } from '../dist/jobs/topics.js';
import {
  benchDirectory,
  connectBareClient,
  createContinuousJob,
  createThingGroupWith,
  NAMESPACE,
  pool,
  startBenchStack,
  startNoopAgent,
  until,
} from './lib.mjs';

const THINGS = Number(process.env.BENCH_THINGS ?? 1000);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 600_000);
const JOB = 'fleet-rollout';
const POLL_MS = 5;
const things = Array.from({ length: THINGS }, (_, i) => `fleet-${String(i).padStart(4, '0')}`);

const { stack, iot } = await startBenchStack();
const root = await benchDirectory('ggjobs-bench-throughput-');
const groupArn = await createThingGroupWith(iot, 'fleet', things);

// The fleet of agents.
let synced = 0;
let reported = 0;
let lastReportedAt = 0;
const listeners = [];
await pool(things, 32, async (thingName) => {
  let counted = false;
  const listener = await startNoopAgent({
    stack,
    thingName,
    jobId: JOB,
    stateDirectory: join(root, thingName),
    // The fleet shares one machine: give requests room, as a loaded service would need.
    listen: { requestTimeoutMs: 60_000 },
    onEvent: (e) => {
      if (e.type === 'synced' && !counted) {
        counted = true;
        synced += 1;
      }
      if (e.type === 'transition' && e.to === 'reported') {
        reported += 1;
        lastReportedAt = performance.now();
      }
    },
  });
  listeners.push(listener);
});
await until(() => synced === THINGS, 'every agent synced', 120_000, POLL_MS);

const t0 = performance.now();
await createContinuousJob(iot, JOB, groupArn);
await until(() => reported === THINGS, `${THINGS} executions reported`, TIMEOUT_MS, POLL_MS);
const agentSeconds = (lastReportedAt - t0) / 1000;
await pool(listeners, 64, (l) => l.stop({ graceMs: 0, flushMs: 5_000 }));

// The floor: bare clients, 3 round trips each, all at once.
const clients = [];
await pool(things, 32, async (thingName, i) => {
  const c = await connectBareClient(stack.mqttUrl, `floor-${i}`);
  const t = jobsTopics({ thingName, jobId: JOB, namespaceId: NAMESPACE });
  await c.subscribeAsync([t.getAccepted, t.getRejected], { qos: 1 });
  clients.push({ c, t });
});
const f0 = performance.now();
await Promise.all(
  clients.map(async ({ c, t }, i) => {
    for (let k = 0; k < 3; k++) {
      const token = `floor-${i}-${k}`;
      const reply = new Promise((resolve) => {
        const onMessage = (_topic, payload) => {
          if (JSON.parse(payload.toString()).clientToken !== token) return;
          c.off('message', onMessage);
          resolve();
        };
        c.on('message', onMessage);
      });
      await c.publishAsync(t.get, JSON.stringify({ clientToken: token }), { qos: 1 });
      await reply;
    }
  }),
);
const floorSeconds = (performance.now() - f0) / 1000;
await pool(clients, 64, ({ c }) => c.endAsync());

const agentRate = THINGS / agentSeconds;
const floorRate = THINGS / floorSeconds;
console.log(
  `throughput, ${THINGS} things with one agent each, one continuous job (local stack, loopback, one process)`,
);
console.log(
  `floor (3 request/response round trips per thing, bare mqtt.js, all at once): ${floorRate.toFixed(1)} executions/s`,
);
console.log(
  `agent (CreateJob -> last SUCCEEDED accepted, no-op job): ${agentRate.toFixed(1)} executions/s = ${(agentRate / floorRate).toFixed(2)}x floor (${agentSeconds.toFixed(2)} s)`,
);

iot.destroy();
await stack.close();
