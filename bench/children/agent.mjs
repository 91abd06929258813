// Child process of bench/resources.mjs: the agent's listener and executor (compiled dist/), run one
// cycle at a time on the parent's command, reporting its own CPU time and RSS after each. A cycle is
// a fresh transport + listener for a new job (the service gives a thing one execution per job),
// either running that job's execution (`run`) or only starting, describing and stopping (`idle`).
import { startNoopAgent } from '../lib.mjs';

const { MQTT_URL, THING, STATE_DIRECTORY, HANDLER_DIRECTORY } = process.env;
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

process.on('message', async ({ cmd, jobId }) => {
  if (cmd === 'exit') process.exit(0);
  const before = cpu();
  const marks = {};
  const listener = await startNoopAgent({
    stack: { mqttUrl: MQTT_URL },
    thingName: THING,
    jobId,
    stateDirectory: STATE_DIRECTORY,
    handlerDirectory: HANDLER_DIRECTORY,
    clientId: `agent-${jobId}`,
    onEvent: (e) => {
      if (e.type === 'synced' && !marks.synced) {
        marks.synced = true;
        process.send({ type: 'ready' });
        if (cmd === 'idle') marks.done = true;
      }
      if (e.type === 'transition' && e.to === 'reported') marks.done = true;
    },
  });
  const deadline = Date.now() + 30_000;
  while (!marks.done && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  await listener.stop({ graceMs: 0, flushMs: 1_000 });
  process.send({
    type: 'done',
    ok: marks.done === true,
    cpuMs: cpu() - before,
    rss: process.memoryUsage().rss,
  });
});
process.send({ type: 'started' });
