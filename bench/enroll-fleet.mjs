// Benchmark: a fleet of devices enrolling at the same first boot against the local AWS IoT stack, with
// AWS-like rate limits on the two control-plane calls an enrollment may need (DescribeJob,
// AssociateTargetsWithJob), then the same fleet restarting.
//
//   npm run build && node bench/enroll-fleet.mjs [--devices 10000] [--groups 100] [--scale 2] [--timeout-s 300]
//
// Each device runs the real `enroll` with the agent's data-plane look: a describe of its own execution
// on `$aws/things/THING/jobs/JOB/namespace-NS/get` (real MQTT through the stack's broker; one bare
// mqtt.js connection carries the whole fleet's looks), its own state directory (on /dev/shm when
// there is one) and the configuration defaults (enroll.retry, enroll.firstBootWaitSeconds).
// Time is compressed by --scale: rate limits run that much faster, and so do the devices' sleeps and
// clock, so the retry policy and the first-boot wait see AWS-like seconds. Figures are simulated
// seconds. Rate limits: DescribeJob and AssociateTargetsWithJob 10/s each (AWS IoT default quotas),
// bucket of 10. The data plane is not throttled here (its looks are counted). Things are in their
// groups; the job starts with group 0 as its only target, so 99 groups are to be added: the floor is
// per group, (99 - 10) / 10 s of associations.
// Goals (issue 12): first boot <= 60 s simulated, <= 0.1 control-plane calls per device, 0 failures;
// the restart makes 0 control-plane calls.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeJobCommand,
} from '@aws-sdk/client-iot';
import mqtt from 'mqtt';
import { validateConfig } from '../dist/config/validate.js';
import { enroll } from '../dist/enroll/enroll.js';
import { startLocalStack } from '../dist/local/index.js';
import { localIotClient, percentile, pool } from './lib.mjs';
import { figure, saveResult } from './results.mjs';

const AWS_TPS = { DescribeJob: 10, AssociateTargetsWithJob: 10 };
const JOB_ID = 'fleet-job';
const NAMESPACE = 'fleet-ops';
const CONTROL_PLANE = ['DescribeJob', 'AssociateTargetsWithJob'];

function args() {
  const out = {
    devices: Number(process.env.BENCH_FLEET_DEVICES ?? 10_000),
    groups: 100,
    // x2: simulating 10,000 devices in one process saturates a small machine when compressed further,
    // and that local queueing would count as simulated seconds (x5 added about 10 s here).
    scale: Number(process.env.BENCH_FLEET_SCALE ?? 2),
    timeoutS: 300,
  };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--devices') out.devices = Number(value);
    else if (flag === '--groups') out.groups = Number(value);
    else if (flag === '--scale') out.scale = Number(value);
    else if (flag === '--timeout-s') out.timeoutS = Number(value);
    else throw new Error(`unknown flag ${flag}`);
  }
  if (!(out.devices >= 1 && out.devices <= 100_000)) throw new Error('--devices must be 1..100000');
  if (!(out.groups >= 1 && out.groups <= 100))
    throw new Error('--groups must be 1..100 (a job has at most 100 targets)');
  if (!(out.scale >= 1 && out.scale <= 200)) throw new Error('--scale must be 1..200');
  return out;
}

/** One MQTT connection that makes every device's data-plane look, correlated by clientToken. */
async function dataPlaneLooks(stack) {
  const client = await mqtt.connectAsync(stack.mqttUrl, { clientId: 'fleet-looks', reconnectPeriod: 0 });
  client.stream.setNoDelay(true);
  await client.subscribeAsync(`$aws/things/+/jobs/${JOB_ID}/namespace-${NAMESPACE}/get/+`, { qos: 1 });
  const waiting = new Map();
  let sent = 0;
  client.on('message', (topic, payload) => {
    const { clientToken, code } = JSON.parse(payload.toString());
    const done = waiting.get(clientToken);
    if (!done) return;
    waiting.delete(clientToken);
    done(topic.endsWith('/accepted') ? 'execution' : code === 'ResourceNotFound' ? 'none' : `error ${code}`);
  });
  return {
    look(thingName) {
      const clientToken = `look-${++sent}`;
      const answer = new Promise((resolve) => waiting.set(clientToken, resolve));
      client.publish(
        `$aws/things/${thingName}/jobs/${JOB_ID}/namespace-${NAMESPACE}/get`,
        JSON.stringify({ clientToken, includeJobDocument: false }),
        { qos: 1 },
      );
      return answer.then((r) => {
        if (r === 'execution' || r === 'none') return r;
        throw new Error(`data-plane look failed: ${r}`);
      });
    },
    get sent() {
      return sent;
    },
    close: () => client.endAsync(),
  };
}

async function runFleet(label, { devices, groups, scale, timeoutS }, fleet) {
  const { stack, device, base, groupArns, looks, stateRoot } = fleet;
  const before = Object.fromEntries(CONTROL_PLANE.map((op) => [op, stack.requestCount(op)]));
  const looksBefore = looks.sent;
  const wallStart = performance.now();
  // The devices' clock (simulated ms) runs on across the first boot and the restart, as a real one does.
  const now = () => fleet.clock();
  const startedAt = now();
  const elapsed = () => now() - startedAt;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms / scale));
  const doneAt = [];
  const perDevice = [];
  const results = {};
  const failures = new Map();
  const deadline = new Promise((resolve) => setTimeout(() => resolve('timeout'), timeoutS * 1000).unref());
  const all = Promise.all(
    Array.from({ length: devices }, (_, d) => {
      const thingName = `device-${d}`;
      const config = {
        ...base,
        thingName,
        stateDirectory: join(stateRoot, thingName),
        enroll: { ...base.enroll, thingGroupArn: groupArns[d % groups] },
      };
      return enroll(config, { client: device, sleep, now, probe: () => looks.look(thingName) }).then(
        (outcome) => {
          results[outcome.result] = (results[outcome.result] ?? 0) + 1;
          doneAt.push(elapsed());
          perDevice.push(outcome.calls);
        },
        (err) => {
          const code = err?.code ?? err?.name ?? 'Error';
          failures.set(code, (failures.get(code) ?? 0) + 1);
          if (failures.get(code) === 1) console.log(`  e.g. ${code}: ${String(err?.message).slice(0, 300)}`);
        },
      );
    }),
  );
  const finished = await Promise.race([all, deadline]);
  const simulatedMs = elapsed();
  const wallMs = performance.now() - wallStart;
  const calls = Object.fromEntries(CONTROL_PLANE.map((op) => [op, stack.requestCount(op) - before[op]]));
  const totalCalls = calls.DescribeJob + calls.AssociateTargetsWithJob;
  const failed = [...failures.values()].reduce((a, b) => a + b, 0);
  const sorted = [...doneAt].sort((a, b) => a - b);
  const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
  console.log(`\n== ${label}: ${devices} devices in ${groups} groups (x${scale} compressed)`);
  if (finished === 'timeout') console.log(`STOPPED at --timeout-s ${timeoutS}: figures below are partial`);
  console.log(
    `succeeded ${sorted.length} ${JSON.stringify(results)}, failed ${failed}${failed ? ` ${JSON.stringify(Object.fromEntries(failures))}` : ''}`,
  );
  console.log(
    `control-plane calls: ${totalCalls} = ${(totalCalls / devices).toFixed(3)} per device (DescribeJob ${calls.DescribeJob}, AssociateTargetsWithJob ${calls.AssociateTargetsWithJob}); data-plane looks ${looks.sent - looksBefore}`,
  );
  console.log(
    `time (simulated): all done ${s(simulatedMs)}, p50 ${s(percentile(sorted, 50))}, p95 ${s(percentile(sorted, 95))} (wall ${s(wallMs)})`,
  );
  return {
    label,
    complete: finished !== 'timeout',
    simulatedMs,
    wallMs,
    succeeded: sorted.length,
    failed,
    results,
    calls,
    callsPerDevice: totalCalls / devices,
    looks: looks.sent - looksBefore,
    // Enrolled devices over simulated time (seconds), thinned to at most 200 points for the plot.
    enrolledOverTime: sorted
      .filter((_, i) => i % Math.max(1, Math.floor(sorted.length / 200)) === 0 || i === sorted.length - 1)
      .map((ms) => ({ seconds: ms / 1000, enrolled: sorted.indexOf(ms) + 1 })),
    // How many devices made 0, 1, 2, ... control-plane calls.
    callsHistogram: Object.entries(perDevice.reduce((h, c) => ({ ...h, [c]: (h[c] ?? 0) + 1 }), {})).map(
      ([c, n]) => ({ calls: Number(c), devices: n }),
    ),
  };
}

async function main() {
  const opts = args();
  const limits = Object.fromEntries(
    Object.entries(AWS_TPS).map(([op, tps]) => [op, { ratePerSecond: tps * opts.scale, burst: tps }]),
  );
  const stack = await startLocalStack({ mqttPort: 0, httpPort: 0 });
  const admin = localIotClient(stack, { maxAttempts: 1 });
  // One shared client stands in for the fleet's clients (10,000 SDK clients in one process would
  // measure the SDK's construction, not the control plane); enough sockets that it does not queue.
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const device = localIotClient(stack, {
    maxAttempts: 1,
    requestHandler: { httpAgent: agent, connectionTimeout: 5_000, requestTimeout: 600_000 },
    // The local stack does not check signatures; 10,000s of SigV4 HMACs would only measure this CPU.
    signer: { sign: async (request) => request },
  });
  const stateRoot = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ggjobs-fleet-'));
  let looks;
  try {
    const groupArns = [];
    for (let g = 0; g < opts.groups; g++) {
      const out = await admin.send(new CreateThingGroupCommand({ thingGroupName: `site-${g}` }));
      groupArns.push(out.thingGroupArn);
    }
    const setup = performance.now();
    await pool(
      Array.from({ length: opts.devices }, (_, d) => d),
      64,
      async (d) => {
        await admin.send(new CreateThingCommand({ thingName: `device-${d}` }));
        await admin.send(
          new AddThingToThingGroupCommand({
            thingName: `device-${d}`,
            thingGroupName: `site-${d % opts.groups}`,
          }),
        );
      },
    );
    console.log(
      `fleet registered in ${((performance.now() - setup) / 1000).toFixed(1)} s (wall, not measured)`,
    );
    await admin.send(
      new CreateJobCommand({
        jobId: JOB_ID,
        targets: [groupArns[0]],
        document: JSON.stringify({ version: '1.0', steps: [] }),
        targetSelection: 'CONTINUOUS',
        namespaceId: NAMESPACE,
      }),
    );
    for (const [op, limit] of Object.entries(limits)) stack.setRateLimit(op, limit);
    looks = await dataPlaneLooks(stack);
    const base = validateConfig({
      thingName: 'device-0',
      region: stack.region,
      jobId: JOB_ID,
      namespaceId: NAMESPACE,
      transport: { kind: 'mqtt', url: stack.mqttUrl },
      enroll: { endpoint: stack.controlPlaneEndpoint },
    });
    const epoch = Date.now();
    const benchStart = performance.now();
    const clock = () => epoch + (performance.now() - benchStart) * opts.scale;
    const fleet = { stack, device, base, groupArns, looks, stateRoot, clock };
    const firstBoot = await runFleet('first boot', opts, fleet);
    const restart = await runFleet('restart', opts, fleet);
    const job = (await admin.send(new DescribeJobCommand({ jobId: JOB_ID }))).job;
    const targets = job?.targets ?? [];
    console.log(
      `job targets: ${targets.length} (${targets.length - new Set(targets).size} duplicates); enroll.firstBootWaitSeconds ${base.enroll.firstBootWaitSeconds}`,
    );
    const floorMs =
      Math.max(0.1, (opts.groups - 1 - AWS_TPS.AssociateTargetsWithJob) / AWS_TPS.AssociateTargetsWithJob) *
      1000;
    console.log(
      `floor (the group associations at 10/s): ${(floorMs / 1000).toFixed(1)} s; first boot / floor ${(firstBoot.simulatedMs / floorMs).toFixed(2)}`,
    );
    saveResult('enroll-fleet', {
      devices: opts.devices,
      groups: opts.groups,
      scale: opts.scale,
      firstBootWaitSeconds: base.enroll.firstBootWaitSeconds,
      targets: targets.length,
      firstBoot,
      restart,
      figures: [
        figure(
          'fleet first boot, all enrolled (simulated s)',
          firstBoot.simulatedMs / 1000,
          floorMs / 1000,
          's',
          {
            max: 60,
          },
        ),
        figure(
          'fleet first boot, control-plane calls per device',
          firstBoot.callsPerDevice,
          undefined,
          'calls',
          {
            max: 0.1,
          },
        ),
        figure('fleet first boot, failures', firstBoot.failed, undefined, 'devices', { max: 0 }),
        figure(
          'fleet restart, control-plane calls',
          restart.calls.DescribeJob + restart.calls.AssociateTargetsWithJob,
          undefined,
          'calls',
          {
            max: 0,
          },
        ),
      ],
    });
  } finally {
    await looks?.close();
    device.destroy();
    admin.destroy();
    agent.destroy();
    await stack.close();
    rmSync(stateRoot, { recursive: true, force: true });
  }
}

await main();
