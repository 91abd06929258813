// Throughput of a fleet: 1,000 things, each with its own agent (listener + mqtt.js transport, its own
// state directory), all in one process and on one local stack over loopback, all in one thing group.
// One continuous, namespaced job is created for the group, which queues 1,000 executions at once
// (one per thing: AWS, and the local stack, give a thing one execution per job, so 1,000 executions
// means 1,000 things; repeating executions for one thing is not something the service does).
// Measured: executions per second from CreateJob to the last SUCCEEDED accepted. Floor, same run:
// the same number of bare mqtt.js clients, each doing the 3 request/response round trips an execution
// needs at the least (describe, IN_PROGRESS, SUCCEEDED: here 3 describes), all at once.
// Run: npm run build && node bench/throughput.mjs   (BENCH_THINGS=N to change the fleet size)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
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
import { jobsTopics } from '../dist/jobs/topics.js';
import { startLocalStack } from '../dist/local/index.js';
import { silentLogger } from '../dist/log.js';
import { createTransport } from '../dist/transport/index.js';

const THINGS = Number(process.env.BENCH_THINGS ?? 1000);
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 600_000);
const NAMESPACE = 'ggjobs';
const JOB = 'fleet-rollout';
const log = silentLogger();
const things = Array.from({ length: THINGS }, (_, i) => `fleet-${String(i).padStart(4, '0')}`);

/** Runs fn over items with at most `limit` in flight. */
async function pool(items, limit, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function until(check, what, ms) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

const stack = await startLocalStack({ mqttPort: 0, httpPort: 0, notifyTopics: 'both' });
const iot = new IoTClient({
  endpoint: stack.controlPlaneEndpoint,
  region: stack.region,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const root = mkdtempSync(join(tmpdir(), 'ggjobs-bench-throughput-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const group = await iot.send(new CreateThingGroupCommand({ thingGroupName: 'fleet' }));
await pool(things, 16, async (thingName) => {
  await iot.send(new CreateThingCommand({ thingName }));
  await iot.send(new AddThingToThingGroupCommand({ thingName, thingGroupName: 'fleet' }));
});

// The fleet of agents.
let synced = 0;
let reported = 0;
let lastReportedAt = 0;
const listeners = [];
const noop = async () => ({ status: 'SUCCEEDED', statusDetails: { reason: 'noop' } });
await pool(things, 32, async (thingName) => {
  const config = configSchema.parse({
    thingName,
    region: 'us-east-1',
    jobId: JOB,
    namespaceId: NAMESPACE,
    stateDirectory: join(root, thingName),
    logLevel: 'silent',
    // The fleet shares one machine: give requests room, as a loaded service would need.
    listen: { requestTimeoutMs: 60_000 },
    transport: { kind: 'mqtt', url: stack.mqttUrl },
  });
  const transport = createTransport(config.transport, { thingName, log });
  let counted = false;
  const listener = await startListener({
    config,
    transport,
    runJob: noop,
    log,
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
await until(() => synced === THINGS, 'every agent synced', 120_000);

const t0 = performance.now();
await iot.send(
  new CreateJobCommand({
    jobId: JOB,
    targets: [group.thingGroupArn],
    targetSelection: 'CONTINUOUS',
    namespaceId: NAMESPACE,
    document: '{"steps":[]}',
  }),
);
await until(() => reported === THINGS, `${THINGS} executions reported`, TIMEOUT_MS);
const agentSeconds = (lastReportedAt - t0) / 1000;
await pool(listeners, 64, (l) => l.stop({ graceMs: 0, flushMs: 5_000 }));

// The floor: bare clients, 3 round trips each, all at once.
const clients = [];
await pool(things, 32, async (thingName, i) => {
  const c = await mqtt.connectAsync(stack.mqttUrl, { clientId: `floor-${i}`, reconnectPeriod: 0 });
  c.stream.setNoDelay(true); // as the agent's transport does
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
