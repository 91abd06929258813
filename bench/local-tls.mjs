// The local stack's TLS and MQTT 5 paths against its plain MQTT 3.1.1 port: one Jobs request/reply
// round trip (QoS 1 `jobs/get` -> `/accepted`, sent to the requester only) from mqtt.js, mean over
// BENCH_ROUND_TRIPS, for plain 3.1.1 (the floor, same run), plain MQTT 5 (through the 5 -> 3.1.1
// translation), TLS 3.1.1 and TLS MQTT 5; plus the one-off cost of creating the certificates.
// Imports the compiled code: `npm run build` first.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startLocalStack } from '../dist/local/index.js';
import { ensureClientCertificate } from '../dist/local/tls/cert-directory.js';

const ROUND_TRIPS = Number(process.env.BENCH_ROUND_TRIPS ?? 2000);
const WARM_UP = 200;
const work = mkdtempSync(join(tmpdir(), 'ggjobs-bench-tls-'));
const dir = join(work, 'tls');

let t = performance.now();
const stack = await startLocalStack({ mqttPort: 0, httpPort: 0, tls: { directory: dir, port: 0 } });
const startMs = performance.now() - t;
t = performance.now();
const device = await ensureClientCertificate(dir, 'bench-device');
const certMs = performance.now() - t;

async function meanRoundTripUs(url, options) {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...options });
  client.stream.setNoDelay(true); // as the broker does: no Nagle delay on small request/reply writes
  let replied = () => {};
  client.on('message', () => replied());
  const once = async () => {
    const reply = new Promise((resolve) => (replied = resolve));
    await client.publishAsync('$aws/things/bench-device/jobs/get', '{}', { qos: 1 });
    await reply;
  };
  for (let i = 0; i < WARM_UP; i++) await once();
  const started = performance.now();
  for (let i = 0; i < ROUND_TRIPS; i++) await once();
  const us = ((performance.now() - started) / ROUND_TRIPS) * 1000;
  await client.endAsync(true);
  return us;
}

const tls = {
  ca: readFileSync(device.caFile),
  cert: readFileSync(device.certFile),
  key: readFileSync(device.keyFile),
};
const plain4 = () => meanRoundTripUs(stack.mqttUrl, { protocolVersion: 4 });
const variants = [
  ['plain MQTT 5', () => meanRoundTripUs(stack.mqttUrl, { protocolVersion: 5 })],
  ['TLS MQTT 3.1.1', () => meanRoundTripUs(stack.mqttsUrl, { protocolVersion: 4, ...tls })],
  ['TLS MQTT 5', () => meanRoundTripUs(stack.mqttsUrl, { protocolVersion: 5, ...tls })],
];
// One untimed pass of everything first, so that JIT warm-up favours no variant; the floor is then
// measured before and after the others and averaged.
await plain4();
for (const [, measure] of variants) await measure();
const floorBefore = await plain4();
const rows = [];
for (const [name, measure] of variants) rows.push([name, await measure()]);
const floorAfter = await plain4();
const floor = (floorBefore + floorAfter) / 2;
await stack.close();
rmSync(work, { recursive: true, force: true });

console.log(
  `first start, creating the CA and broker certificate: ${startMs.toFixed(0)} ms; a device certificate: ${certMs.toFixed(0)} ms`,
);
console.log(
  `jobs/get round trip, mean of ${ROUND_TRIPS}: plain MQTT 3.1.1 ${floor.toFixed(0)} us (floor; ${floorBefore.toFixed(0)} before, ${floorAfter.toFixed(0)} after)`,
);
for (const [name, us] of rows)
  console.log(`  ${name}: ${us.toFixed(0)} us = ${(us / floor).toFixed(2)}x floor`);
