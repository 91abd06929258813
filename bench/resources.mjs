// CPU, memory and start-up of the agent, each against a floor measured in the same run, on the
// embedded local stack over loopback (Linux: reads /proc).
//   CPU per execution: the agent's own CPU time (child process, process.cpuUsage) for one execution
//     of a job whose document spawns the no-op handler, against a bare mqtt.js client doing 3
//     request/response round trips and one spawn of the same handler. Each agent cycle is a fresh
//     connection + listener for a new job (the service gives a thing one execution per job), so the
//     same cycle without an execution (connect, subscribe, describe, stop) is measured too and the
//     net figure (run - idle) is what the goal compares.
//   Memory: the packaged component (greengrass-build stage; `npm run package` first, else skipped)
//     idle, started with `start --no-enroll`, against bare node + mqtt.js connected and subscribed to
//     the same topics; and the agent child's RSS over N executions.
//   Start-up: `ggjobs --version` against `node -e 0`; `ggjobs start --no-enroll` until it logs
//     "listening for job executions" against the bare client's connect + subscribe.
// Run: npm run build && node bench/resources.mjs   (BENCH_EXECUTIONS=N, default 1000)
import { fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { subscribedTopics } from '../dist/jobs/topics.js';
import {
  benchDirectory,
  createContinuousJob,
  createThingGroupWith,
  NAMESPACE,
  NOOP_DOCUMENT,
  NOOP_HANDLER,
  noopHandlerDirectory,
  percentile,
  startBenchStack,
} from './lib.mjs';
import { figure, saveResult } from './results.mjs';

const EXECUTIONS = Number(process.env.BENCH_EXECUTIONS ?? 1000);
const STARTS = Number(process.env.BENCH_STARTS ?? 10);
const SETTLE_MS = 4_000;
const THING = 'bench-core';
const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const here = fileURLToPath(new URL('.', import.meta.url));
const arch = process.arch === 'arm64' ? 'aarch64' : 'amd64';
const BUNDLE = join(root, `greengrass-build/stage/ggjobs-${arch}/dist/cli/ggjobs.mjs`);
const children = new Set();
// The node flags of the recipe's Run command: the component's processes here run with them too.
const recipeRun = readFileSync(join(root, 'recipe.yaml'), 'utf8').match(/exec node ((?:--\S+ )*)\{artifacts/);
const nodeFlags = (recipeRun?.[1] ?? '').trim().split(' ').filter(Boolean);
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

const median = (values) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rssOf = (pid) =>
  Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

/** The next message of `child` matching `type` (bounded). */
function nextMessage(child, type, ms = 30_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} from child within ${ms} ms`)), ms);
    const on = (m) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
  });
}

/** Spawns and resolves with ms until a line of stdout/stderr matches `pattern` (bounded); the child stays up. */
function timeUntilLine(command, args, pattern, env = {}) {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`${args.join(' ')}: no ${pattern} within 30 s\n${seen}`)),
      30_000,
    );
    const onData = (d) => {
      seen = (seen + d).slice(-4000);
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolvePromise({ ms: performance.now() - t0, child });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
}

async function stopChild(child) {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
  children.delete(child);
}

const { stack, iot } = await startBenchStack();
const work = await benchDirectory('ggjobs-bench-resources-');
const handlerDirectory = noopHandlerDirectory(work);
const groupArn = await createThingGroupWith(iot, 'bench-group', [THING]);
const ids = { thingName: THING, jobId: 'idle-job', namespaceId: NAMESPACE };
const topics = subscribedTopics(ids, { perJob: true, thing: true, thingNext: true });
const bareEnv = {
  MQTT_URL: stack.mqttUrl,
  THING,
  NAMESPACE,
  HANDLER: join(handlerDirectory, NOOP_HANDLER),
  TOPICS: JSON.stringify(topics),
};
const configFile = join(work, 'ggjobs.json');
writeFileSync(
  configFile,
  JSON.stringify({
    thingName: THING,
    region: 'us-east-1',
    jobId: 'idle-job',
    namespaceId: NAMESPACE,
    stateDirectory: join(work, 'state-cli'),
    logLevel: 'info',
    transport: { kind: 'mqtt', url: stack.mqttUrl },
    executor: { handlerDirectory },
  }),
);
const cliEnv = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
const figures = [];
const out = {};

// --- start-up ---------------------------------------------------------------------------------
const wall = (args) => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore', env: { ...process.env, ...cliEnv } });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return performance.now() - t0;
};
const startup = { nodeE0: [], version: [], versionBundle: [], start: [], startBundle: [], bare: [] };
for (let i = 0; i < STARTS; i++) {
  startup.nodeE0.push(wall(['-e', '0']));
  startup.version.push(wall([join(root, 'bin/ggjobs.js'), '--version']));
  if (existsSync(BUNDLE)) startup.versionBundle.push(wall([...nodeFlags, BUNDLE, '--version']));
}
const LISTENING = /listening for job executions/;
for (let i = 0; i < Math.max(3, Math.ceil(STARTS / 2)); i++) {
  const bare = await timeUntilLine(process.execPath, [join(here, 'children/bare.mjs')], /subscribed/, {
    ...bareEnv,
    MODE: 'idle',
  });
  startup.bare.push(bare.ms);
  await stopChild(bare.child);
  const cli = await timeUntilLine(
    process.execPath,
    [join(root, 'bin/ggjobs.js'), 'start', '--no-enroll', '--config', configFile],
    LISTENING,
    cliEnv,
  );
  startup.start.push(cli.ms);
  await stopChild(cli.child);
  if (existsSync(BUNDLE)) {
    const b = await timeUntilLine(
      process.execPath,
      [...nodeFlags, BUNDLE, 'start', '--no-enroll', '--config', configFile],
      LISTENING,
      cliEnv,
    );
    startup.startBundle.push(b.ms);
    await stopChild(b.child);
  }
}
out.startup = Object.fromEntries(Object.entries(startup).map(([k, v]) => [k, median(v)]));
console.log(
  `start-up (median ms): node -e 0 ${out.startup.nodeE0.toFixed(0)}; ggjobs --version ${out.startup.version.toFixed(0)} (bundle ${out.startup.versionBundle?.toFixed(0)}); ggjobs start -> listening ${out.startup.start.toFixed(0)} (bundle ${out.startup.startBundle?.toFixed(0)}); bare connect + subscribe ${out.startup.bare.toFixed(0)}`,
);
figures.push(
  figure('start-up ggjobs --version (ms)', out.startup.version, out.startup.nodeE0, 'ms', { maxRatio: 1.5 }),
);
if (startup.versionBundle.length)
  figures.push(
    figure('start-up component bundle --version (ms)', out.startup.versionBundle, out.startup.nodeE0, 'ms', {
      maxRatio: 1.5,
    }),
  );
figures.push(
  figure('start-up ggjobs start -> subscribed (ms)', out.startup.start, out.startup.bare, 'ms', {
    maxRatio: 2,
  }),
);
if (startup.startBundle.length)
  figures.push(
    figure(
      'start-up component bundle start -> subscribed (ms)',
      out.startup.startBundle,
      out.startup.bare,
      'ms',
      { maxRatio: 2 },
    ),
  );

// --- idle memory ------------------------------------------------------------------------------
const idleRss = async (command, args, pattern, env) => {
  const { child } = await timeUntilLine(command, args, pattern, env);
  await sleep(SETTLE_MS);
  const samples = [];
  for (let i = 0; i < 5; i++) {
    samples.push(rssOf(child.pid));
    await sleep(200);
  }
  await stopChild(child);
  return median(samples);
};
const MiB = 1024 * 1024;
out.idle = {
  bare: await idleRss(process.execPath, [join(here, 'children/bare.mjs')], /subscribed/, {
    ...bareEnv,
    MODE: 'idle',
  }),
  cli: await idleRss(
    process.execPath,
    [join(root, 'bin/ggjobs.js'), 'start', '--no-enroll', '--config', configFile],
    LISTENING,
    cliEnv,
  ),
};
if (existsSync(BUNDLE))
  out.idle.component = await idleRss(
    process.execPath,
    [...nodeFlags, BUNDLE, 'start', '--no-enroll', '--config', configFile],
    LISTENING,
    cliEnv,
  );
console.log(
  `idle RSS (MiB): bare node + mqtt.js ${(out.idle.bare / MiB).toFixed(1)}; ggjobs start (dist) ${(out.idle.cli / MiB).toFixed(1)}; component bundle ${out.idle.component ? (out.idle.component / MiB).toFixed(1) : 'not built (npm run package)'}`,
);
if (out.idle.component)
  figures.push(
    figure('memory component idle RSS (MiB)', out.idle.component / MiB, out.idle.bare / MiB, 'MiB', {
      maxRatio: 1.25,
    }),
  );
figures.push(
  figure('memory ggjobs start (dist) idle RSS (MiB)', out.idle.cli / MiB, out.idle.bare / MiB, 'MiB'),
);

// --- CPU per execution and RSS over executions ----------------------------------------------------
// The agent child is bundled the way the component is (one esbuild ESM bundle, minified) and run with
// the node flags of the recipe's Run command, so its memory is the component's.
const agentBundle = join(work, 'agent-child.mjs');
await esbuild.build({
  entryPoints: [join(here, 'children/agent.mjs')],
  outfile: agentBundle,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  logLevel: 'warning',
  // As scripts/package.mjs: CommonJS dependencies call require() and use __dirname.
  banner: {
    js: [
      "import { createRequire as __cr } from 'node:module';",
      "import { fileURLToPath as __fu } from 'node:url';",
      "import { dirname as __dn } from 'node:path';",
      'const require = __cr(import.meta.url);',
      'const __filename = __fu(import.meta.url);',
      'const __dirname = __dn(__filename);',
    ].join('\n'),
  },
});
const agent = fork(agentBundle, [], {
  // e.g. BENCH_AGENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the agent alone.
  execArgv: [...nodeFlags, ...(process.env.BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter(Boolean)],
  env: {
    NAMESPACE,
    ...process.env,
    MQTT_URL: stack.mqttUrl,
    THING,
    STATE_DIRECTORY: join(work, 'state-agent'),
    HANDLER_DIRECTORY: handlerDirectory,
  },
});
children.add(agent);
await nextMessage(agent, 'started');
console.log(`agent child pid ${agent.pid} (bundled, node flags: ${nodeFlags.join(' ') || 'none'})`);
const bare = fork(join(here, 'children/bare.mjs'), [], { env: { ...process.env, ...bareEnv, MODE: 'run' } });
children.add(bare);
await nextMessage(bare, 'started');

const agentRun = [];
const agentIdle = [];
const bareRun = [];
const rssSeries = [];
const started = Date.now();
for (let i = 0; i < EXECUTIONS && Date.now() - started < 600_000; i++) {
  // An idle cycle (no job): connect, subscribe, describe, stop.
  agent.send({ cmd: 'idle', jobId: `idle-${i}` });
  agentIdle.push((await nextMessage(agent, 'done')).cpuMs);
  // A run: the same, plus the execution.
  const jobId = `cpu-${i}`;
  agent.send({ cmd: 'run', jobId });
  await nextMessage(agent, 'ready');
  await createContinuousJob(iot, jobId, groupArn, NOOP_DOCUMENT);
  const done = await nextMessage(agent, 'done');
  if (!done.ok) throw new Error(`execution ${i} did not finish`);
  agentRun.push(done.cpuMs);
  rssSeries.push({ execution: i + 1, rssMiB: done.rss / MiB });
  bare.send({ cmd: 'run', jobId });
  bareRun.push((await nextMessage(bare, 'done')).cpuMs);
}
// Let them exit on their own (a --cpu-prof profile is written at exit), bounded.
const exitedOnItsOwn = (c) =>
  Promise.race([new Promise((r) => c.once('exit', r)), sleep(10_000)]).then(() => children.delete(c));
agent.send({ cmd: 'exit' });
bare.send({ cmd: 'exit' });
await Promise.all([exitedOnItsOwn(agent), exitedOnItsOwn(bare)]);
const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
out.cpu = { run: mean(agentRun), idle: mean(agentIdle), bare: mean(bareRun), executions: agentRun.length };
out.cpu.net = out.cpu.run - out.cpu.idle;
console.log(
  `CPU per execution (ms, mean of ${agentRun.length}): agent cycle with execution ${out.cpu.run.toFixed(2)}, without ${out.cpu.idle.toFixed(2)}, net ${out.cpu.net.toFixed(2)}; bare 3 round trips + spawn ${out.cpu.bare.toFixed(2)}`,
);
figures.push(
  figure('CPU per execution, net of listener start/stop (ms)', out.cpu.net, out.cpu.bare, 'ms', {
    maxRatio: 2.5,
  }),
);
figures.push(figure('CPU per execution incl. listener start/stop (ms)', out.cpu.run, out.cpu.bare, 'ms'));
const last = rssSeries.at(-1)?.rssMiB ?? 0;
const warm = rssSeries[Math.floor(rssSeries.length / 10)]?.rssMiB ?? 0;
console.log(
  `agent RSS after ${rssSeries.length} executions ${last.toFixed(1)} MiB (after ${Math.floor(rssSeries.length / 10) + 1}: ${warm.toFixed(1)} MiB); bare idle ${(out.idle.bare / MiB).toFixed(1)} MiB`,
);
figures.push(
  figure(`memory agent RSS after ${rssSeries.length} executions (MiB)`, last, out.idle.bare / MiB, 'MiB', {
    maxRatio: 1.35,
  }),
);
// The last sample is the goal's figure; the highest one shows how far V8's heap grows between major
// collections (each cycle here builds and drops a whole listener and connection).
const peak = Math.max(...rssSeries.map((r) => r.rssMiB));
console.log(`agent RSS highest sample over the run ${peak.toFixed(1)} MiB`);
figures.push(figure('memory agent RSS, highest sample over the run (MiB)', peak, out.idle.bare / MiB, 'MiB'));
saveResult('resources', { ...out, rssSeries, bareIdleMiB: out.idle.bare / MiB, figures });

iot.destroy();
await stack.close();
process.exit(0);
