// Child process of bench/resources.mjs: the floors. A bare mqtt.js client (no ggjobs code; it
// subscribes at QoS 0 and publishes at QoS 1, as the agent's mqtt transport does) that
//   idle: connects, subscribes to the topics the agent subscribes to (TOPICS, JSON), prints "subscribed"
//         and stays connected (its RSS is the memory floor; its time to "subscribed" the start-up floor);
//   run:  per command, 3 request/response round trips on the job's `get` topic plus one spawn of the
//         no-op handler, reporting its CPU time (the CPU floor of one execution).
import { spawn } from 'node:child_process';
import mqtt from 'mqtt';

const { MQTT_URL, THING, NAMESPACE, HANDLER, TOPICS, MODE } = process.env;
const client = await mqtt.connectAsync(MQTT_URL, { clientId: `bare-${process.pid}`, reconnectPeriod: 0 });
client.stream.setNoDelay(true);
if (MODE === 'idle') {
  await client.subscribeAsync(JSON.parse(TOPICS), { qos: 0 });
  process.stdout.write('subscribed\n');
  setInterval(() => {}, 60_000);
} else {
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const waiting = new Map();
  client.on('message', (_topic, payload) => {
    const token = JSON.parse(payload.toString()).clientToken;
    waiting.get(token)?.();
    waiting.delete(token);
  });
  let n = 0;
  process.on('message', async ({ cmd, jobId }) => {
    if (cmd === 'exit') {
      await client.endAsync();
      process.exit(0);
    }
    const before = cpu();
    const base = `$aws/things/${THING}/jobs/${jobId}/namespace-${NAMESPACE}/get`;
    await client.subscribeAsync([`${base}/accepted`, `${base}/rejected`], { qos: 0 });
    for (let k = 0; k < 3; k++) {
      const clientToken = `bare-${++n}`;
      const replied = new Promise((resolve) => waiting.set(clientToken, resolve));
      await client.publishAsync(base, JSON.stringify({ clientToken }), { qos: 1 });
      await replied;
    }
    await new Promise((resolve, reject) => {
      const child = spawn(HANDLER, [], { stdio: 'ignore' });
      child.on('error', reject);
      child.on('exit', resolve);
    });
    await client.unsubscribeAsync([`${base}/accepted`, `${base}/rejected`]);
    process.send({ type: 'done', cpuMs: cpu() - before, rss: process.memoryUsage().rss });
  });
  process.send({ type: 'started' });
}
