// Benchmark: a fleet of devices running `enroll` at the same moment against the local AWS IoT stack,
// with AWS-like rate limits on the two calls every enrollment needs (DescribeJob, AssociateTargetsWithJob).
//
//   npm run build && node bench/enroll-fleet.mjs [--devices 10000] [--groups 100] [--scale 20]
//                                               [--scenario both|defaults|fleet] [--timeout-s 300]
//
// Time is compressed by --scale: the rate limits are multiplied by it, and every device's sleep and
// clock run that much faster, so the devices' retry policy sees AWS-like seconds (and the real
// enroll.retry numbers) while the run takes 1/scale of the wall time. Figures are printed in simulated
// seconds and as a ratio to the floor measured from the same run's limits: the least time the rate
// limits allow for the calls that are necessary (one DescribeJob per device, one
// AssociateTargetsWithJob per group not yet a target).
//
// Rate limits: AWS IoT's Jobs control-plane APIs (DescribeJob, AssociateTargetsWithJob) are throttled
// at 10 transactions per second per account by default (AWS IoT Device Management quotas); bucket
// size = one second of requests (10). Devices name their group by ARN (enroll.thingGroupArn) so only those
// two calls are made. The job starts with group 0 as its only target: 100 groups fill the 100-target
// limit of a continuous job exactly.
//
// Scenarios: "defaults" = the schema's enroll.retry defaults (8 attempts, 250 ms .. 20 s, 120 s total);
// "fleet" = what README "Enrolling (for operators)" recommends for a fleet enrolling at once
// (100 attempts, 250 ms .. 600 s, 3600 s total).
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { CreateJobCommand, CreateThingGroupCommand, DescribeJobCommand } from '@aws-sdk/client-iot';
import { validateConfig } from '../dist/config/validate.js';
import { enroll } from '../dist/enroll/enroll.js';
import { startLocalStack } from '../dist/local/index.js';
import { localIotClient, percentile } from './lib.mjs';

const AWS_TPS = { DescribeJob: 10, AssociateTargetsWithJob: 10 };
const JOB_ID = 'fleet-job';
const NAMESPACE = 'fleet-ops';
const SCENARIOS = {
  defaults: { maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 20_000, maxTotalMs: 120_000 },
  fleet: { maxAttempts: 100, baseDelayMs: 250, maxDelayMs: 600_000, maxTotalMs: 3_600_000 },
};

function args() {
  const out = { devices: 10_000, groups: 100, scale: 20, scenario: 'both', timeoutS: 300 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--devices') out.devices = Number(value);
    else if (flag === '--groups') out.groups = Number(value);
    else if (flag === '--scale') out.scale = Number(value);
    else if (flag === '--scenario') out.scenario = value;
    else if (flag === '--timeout-s') out.timeoutS = Number(value);
    else throw new Error(`unknown flag ${flag}`);
  }
  if (!(out.devices >= 1 && out.devices <= 100_000)) throw new Error('--devices must be 1..100000');
  if (!(out.groups >= 1 && out.groups <= 100))
    throw new Error('--groups must be 1..100 (a job has at most 100 targets)');
  if (!(out.scale >= 1 && out.scale <= 200)) throw new Error('--scale must be 1..200');
  if (!['both', 'defaults', 'fleet'].includes(out.scenario))
    throw new Error('--scenario must be both, defaults or fleet');
  return out;
}

async function runScenario(name, retry, opts) {
  const limits = Object.fromEntries(
    Object.entries(AWS_TPS).map(([op, tps]) => [
      op,
      // The refill rate runs `scale` times faster; the bucket size is a count of requests and does not.
      { ratePerSecond: tps * opts.scale, burst: tps },
    ]),
  );
  const stack = await startLocalStack({ mqttPort: 0, httpPort: 0 });
  const admin = localIotClient(stack, { maxAttempts: 1 });
  // One shared client stands in for the fleet's clients (10,000 SDK clients in one process would
  // measure the SDK's construction, not the control plane); enough sockets that it does not queue.
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const device = localIotClient(stack, {
    maxAttempts: 1,
    requestHandler: { httpAgent: agent, connectionTimeout: 5_000, requestTimeout: 600_000 },
    // The local stack does not check signatures; computing 100,000 SigV4 HMACs would only measure
    // this machine's CPU, not the control-plane calls.
    signer: { sign: async (request) => request },
  });
  try {
    const groupArns = [];
    for (let g = 0; g < opts.groups; g++) {
      const out = await admin.send(new CreateThingGroupCommand({ thingGroupName: `site-${g}` }));
      groupArns.push(out.thingGroupArn);
    }
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
    const before = {
      describe: stack.requestCount('DescribeJob'),
      associate: stack.requestCount('AssociateTargetsWithJob'),
    };

    const base = validateConfig({
      thingName: 'device-0',
      region: stack.region,
      jobId: JOB_ID,
      namespaceId: NAMESPACE,
      transport: { kind: 'mqtt', url: stack.mqttUrl },
      enroll: { endpoint: stack.controlPlaneEndpoint, retry },
    });
    const wallStart = performance.now();
    // The devices' clock: simulated milliseconds, running `scale` times faster than the wall clock.
    const now = () => (performance.now() - wallStart) * opts.scale;
    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms / opts.scale));
    const doneAt = [];
    const failures = new Map();
    const failureSamples = new Map();
    // Every request's round trip on this machine (wall ms): the part of the simulated time that is
    // this process being busy, not AWS-like throttling (it is multiplied by --scale like everything else).
    const latencies = [];
    const timed = {
      send: async (command) => {
        const t0 = performance.now();
        try {
          return await device.send(command);
        } finally {
          latencies.push(performance.now() - t0);
        }
      },
      destroy() {},
    };
    let results = { associated: 0, 'already-associated': 0 };
    const deadline = new Promise((resolve) =>
      setTimeout(() => resolve('timeout'), opts.timeoutS * 1000).unref(),
    );
    const all = Promise.all(
      Array.from({ length: opts.devices }, (_, d) => {
        const config = {
          ...base,
          thingName: `device-${d}`,
          enroll: { ...base.enroll, thingGroupArn: groupArns[d % opts.groups] },
        };
        return enroll(config, { client: timed, sleep, now }).then(
          (outcome) => {
            results = { ...results, [outcome.result]: results[outcome.result] + 1 };
            doneAt.push(now());
          },
          (err) => {
            const code = err?.code ?? err?.name ?? 'Error';
            if (!failures.has(code)) failureSamples.set(code, String(err?.message).slice(0, 300));
            failures.set(code, (failures.get(code) ?? 0) + 1);
          },
        );
      }),
    );
    const finished = await Promise.race([all, deadline]);
    const simulatedMs = now();
    const wallMs = performance.now() - wallStart;
    for (const op of Object.keys(limits)) stack.setRateLimit(op, undefined);

    const describeCalls = stack.requestCount('DescribeJob') - before.describe;
    const associateCalls = stack.requestCount('AssociateTargetsWithJob') - before.associate;
    const job = (await admin.send(new DescribeJobCommand({ jobId: JOB_ID }))).job;
    const targets = job?.targets ?? [];
    const duplicates = targets.length - new Set(targets).size;

    // Floor: the necessary calls at the limited rates, after the initial bucket (burst) is spent.
    const neededDescribe = opts.devices;
    const neededAssociate = opts.groups - 1;
    const floorMs =
      1000 *
      Math.max(
        (neededDescribe - AWS_TPS.DescribeJob) / AWS_TPS.DescribeJob,
        (neededAssociate - AWS_TPS.AssociateTargetsWithJob) / AWS_TPS.AssociateTargetsWithJob,
        1 / AWS_TPS.DescribeJob,
      );
    const sorted = [...doneAt].sort((a, b) => a - b);
    const failed = [...failures.values()].reduce((a, b) => a + b, 0);
    const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
    console.log(`\n== scenario "${name}": enroll.retry ${JSON.stringify(retry)}`);
    console.log(
      `devices ${opts.devices} in ${opts.groups} groups; limits DescribeJob ${AWS_TPS.DescribeJob}/s, AssociateTargetsWithJob ${AWS_TPS.AssociateTargetsWithJob}/s (AWS time; x${opts.scale} compressed)`,
    );
    if (finished === 'timeout')
      console.log(`STOPPED at --timeout-s ${opts.timeoutS}: figures below are partial`);
    console.log(
      `succeeded ${sorted.length} (associated ${results.associated}, already-associated ${results['already-associated']}), failed ${failed}${failed ? ` ${JSON.stringify(Object.fromEntries(failures))}` : ''}`,
    );
    console.log(
      `control-plane calls per device: ${((describeCalls + associateCalls) / opts.devices).toFixed(2)} (DescribeJob ${(describeCalls / opts.devices).toFixed(2)}, AssociateTargetsWithJob ${associateCalls} in total for ${neededAssociate} groups to add; floor 1.00 + ${(neededAssociate / opts.devices).toFixed(4)})`,
    );
    for (const [code, message] of failureSamples) console.log(`  e.g. ${code}: ${message}`);
    console.log(`job targets: ${targets.length} (${duplicates} duplicates)`);
    const lat = [...latencies].sort((a, b) => a - b);
    console.log(
      `request round trip on this machine: p50 ${percentile(lat, 50).toFixed(0)} ms, p99 ${percentile(lat, 99).toFixed(0)} ms wall (p50 = ${s(percentile(lat, 50) * opts.scale)} of AWS time: local queueing while this process is saturated, included in the times below)`,
    );
    console.log(
      `time (AWS seconds): all done ${s(simulatedMs)}, p50 ${s(percentile(sorted, 50))}, p95 ${s(percentile(sorted, 95))}; floor ${s(floorMs)}; ratio total/floor ${(simulatedMs / floorMs).toFixed(2)} (wall ${s(wallMs)})`,
    );
  } finally {
    device.destroy();
    admin.destroy();
    agent.destroy();
    await stack.close();
  }
}

const opts = args();
const names = opts.scenario === 'both' ? ['defaults', 'fleet'] : [opts.scenario];
for (const name of names) await runScenario(name, SCENARIOS[name], opts);
