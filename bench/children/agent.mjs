// Child process of bench/resources.mjs: the agent's listener and executor (compiled dist/), run one
// cycle at a time on the parent's command, reporting its own CPU time and RSS after each. A cycle is
// a fresh transport + listener for a new job (the service gives a thing one execution per job),
// either running that job's execution (`run`) or only starting, describing and stopping (`idle`).
// Imports only what a device's agent runs (no AWS SDK, no local stack), so that bundled like the
// component (bench/resources.mjs does, with esbuild) its memory is the component's.
import { configSchema } from '../../dist/config/schema.js';
import { startListener } from '../../dist/jobs/listener.js';
import { silentLogger } from '../../dist/log.js';
import { createJobRunner } from '../../dist/run/runner.js';
import { createTransport } from '../../dist/transport/index.js';

const { MQTT_URL, THING, STATE_DIRECTORY, HANDLER_DIRECTORY, NAMESPACE } = process.env;
const log = silentLogger();

function startAgent({ jobId, onEvent }) {
  const config = configSchema.parse({
    thingName: THING,
    region: 'us-east-1',
    jobId,
    namespaceId: NAMESPACE,
    stateDirectory: STATE_DIRECTORY,
    logLevel: 'silent',
    transport: { kind: 'mqtt', url: MQTT_URL, clientId: `agent-${jobId}` },
    executor: { handlerDirectory: HANDLER_DIRECTORY },
  });
  const transport = createTransport(config.transport, { thingName: THING, log });
  return startListener({ config, transport, runJob: createJobRunner(config.executor), log, onEvent });
}
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

process.on('message', async ({ cmd, jobId }) => {
  if (cmd === 'exit') process.exit(0);
  const before = cpu();
  const marks = {};
  // Resolved by the listener's own events (no polling timer: its wake-ups would count as the agent's CPU).
  let finish;
  const finished = new Promise((r) => (finish = r));
  const timeout = setTimeout(finish, 30_000);
  const listener = await startAgent({
    jobId,
    onEvent: (e) => {
      if (process.env.BENCH_DEBUG) process.stderr.write(`${JSON.stringify(e).slice(0, 300)}\n`);
      if (e.type === 'synced' && !marks.synced) {
        marks.synced = true;
        process.send({ type: 'ready' });
        if (cmd === 'idle') marks.done = true;
      }
      if (e.type === 'transition' && e.to === 'reported') marks.done = true;
      if (marks.done) finish();
    },
  });
  await finished;
  clearTimeout(timeout);
  await listener.stop({ graceMs: 0, flushMs: 1_000 });
  process.send({
    type: 'done',
    ok: marks.done === true,
    cpuMs: cpu() - before,
    rss: process.memoryUsage().rss,
  });
});
process.send({ type: 'started' });
