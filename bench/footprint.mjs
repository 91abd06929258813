// Footprint of the Greengrass component: artifact size per platform (zip and unpacked), and idle
// resident memory (RSS) per transport, each beside a bare `node -e "setInterval(()=>{},1000)"`
// measured in the same run.
//
//   npm run build && node bench/footprint.mjs
//
// Two idle measurements per transport, both connected to a broker with the Jobs data plane (the
// embedded local stack) and subscribed to the job's topics:
//   component  the packaged bundle (greengrass-build stage), run with the recipe's Run command;
//   transport  dist/transport alone (createTransport + connect + subscribe), the floor of the agent.
// mqtt talks to the local stack's aedes; iot-core to mosquitto with TLS client certificates, bridged
// to aedes for the Jobs topics (aedes speaks MQTT 3.1.1 only, the device SDK client MQTT 5);
// greengrass-ipc to the IPC test server (test/greengrass/ipc-server), bridged to aedes.
// Linux only (reads /proc/PID/status). Loopback only; every wait is bounded.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { parse } from 'yaml';

// package-lock pins an AWS SDK release that supports Node 20; its notice about *future* releases
// needing Node 22 is not actionable here, so it is not printed into the benchmark's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dist = join(root, 'dist');
const SETTLE_MS = 6_000;
const SAMPLES = 5;
const THING = 'bench-core-1';
const REGION = 'us-east-1';

if (process.platform !== 'linux') throw new Error('footprint.mjs reads /proc: Linux only');
if (!existsSync(join(dist, 'transport/index.js'))) throw new Error('run `npm run build` first');

const work = mkdtempSync(join(tmpdir(), 'ggjobs-footprint-'));
const children = new Set();
const cleanups = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;
const mib = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

function rssBytes(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = status.match(/^VmRSS:\s+(\d+) kB/m);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/** Starts a process, lets it settle, returns the median of a few RSS samples (or why it failed). */
async function idleRss(label, command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  let output = '';
  child.stdout.on('data', (d) => (output = (output + d).slice(-4000)));
  child.stderr.on('data', (d) => (output = (output + d).slice(-4000)));
  try {
    const deadline = Date.now() + SETTLE_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) return { label, error: `exited ${child.exitCode}: ${output.trim()}` };
      await sleep(100);
    }
    if (options.ready && !options.ready(output)) return { label, error: `not ready: ${output.trim()}` };
    const samples = [];
    for (let i = 0; i < SAMPLES; i++) {
      if (child.exitCode !== null) return { label, error: `exited ${child.exitCode}: ${output.trim()}` };
      samples.push(rssBytes(child.pid));
      await sleep(200);
    }
    samples.sort((a, b) => a - b);
    return { label, rss: samples[Math.floor(samples.length / 2)] };
  } finally {
    child.kill('SIGTERM');
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(5_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    children.delete(child);
  }
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** The test-only helpers (certificates, mosquitto, IPC server) are TypeScript: bundle them for this run. */
async function loadTestSupport() {
  const outfile = join(work, 'support.mjs');
  await esbuild.build({
    stdin: {
      contents: [
        "export * from './test/support/certs.ts';",
        "export * from './test/support/mosquitto.ts';",
        "export { startIpcServer } from './test/greengrass/ipc-server/index.ts';",
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'error',
  });
  // Resolve its bare imports (mqtt, aedes, ...) from the repository's node_modules.
  const copy = join(root, 'node_modules', '.ggjobs-footprint-support.mjs');
  writeFileSync(copy, readFileSync(outfile));
  cleanups.push(() => rmSync(copy, { force: true }));
  return import(pathToFileURL(copy).href);
}

const HARNESS = `
const dist = process.env.GGJOBS_DIST;
// GGJOBS_MQTT_ONLY: dist/transport/mqtt.js alone, without index.js (which imports every backend).
const { createTransport } = process.env.GGJOBS_MQTT_ONLY
  ? await import(dist + '/transport/mqtt.js').then((m) => ({ createTransport: (c, o) => new m.MqttTransport(c, o) }))
  : await import(dist + '/transport/index.js');
const { subscribedTopics } = await import(dist + '/jobs/topics.js');
const { silentLogger } = await import(dist + '/log.js');
const { transportSchema } = await import(dist + '/config/schema.js');
const ids = JSON.parse(process.env.GGJOBS_IDS);
const transport = createTransport(transportSchema.parse(JSON.parse(process.env.GGJOBS_TRANSPORT)), { thingName: ids.thingName, log: silentLogger() });
await transport.connect();
for (const t of subscribedTopics(ids, { perJob: true, thing: true, thingNext: true })) await transport.subscribe(t, () => {});
console.log('ready');
setInterval(() => {}, 1000);
process.on('SIGTERM', () => transport.close().then(() => process.exit(0)));
`;

async function main() {
  // --- package -------------------------------------------------------------------------------------
  const pkgOut = join(work, 'package');
  const packaging = spawnSync(process.execPath, [join(root, 'scripts/package.mjs'), '--out', pkgOut], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (packaging.status !== 0) throw new Error(`packaging failed:\n${packaging.stdout}${packaging.stderr}`);
  const recipe = parse(readFileSync(join(pkgOut, 'recipes/recipe.yaml'), 'utf8'));
  const version = recipe.ComponentVersion;
  console.log(
    `ggjobs component ${recipe.ComponentName} ${version} footprint (node ${process.version}, ${process.arch})\n`,
  );
  console.log('artifact size per platform');
  for (const manifest of recipe.Manifests) {
    const name = `ggjobs-${manifest.Platform.architecture}`;
    const zip = statSync(join(pkgOut, 'artifacts', recipe.ComponentName, version, `${name}.zip`)).size;
    const files = filesUnder(join(pkgOut, 'stage', name));
    const unpacked = files.reduce((n, f) => n + statSync(f).size, 0);
    const native = files.filter((f) => f.endsWith('.node')).reduce((n, f) => n + statSync(f).size, 0);
    // ggjobs.mjs and the chunks it loads on demand (code splitting).
    const bundle = files.filter((f) => f.endsWith('.mjs')).reduce((n, f) => n + statSync(f).size, 0);
    console.log(
      `  ${manifest.Platform.architecture.padEnd(8)} zip ${mib(zip).padStart(9)}   unpacked ${mib(unpacked).padStart(9)}` +
        `   (bundle ${mib(bundle)}, aws-crt native ${mib(native)}, ${files.length} files)`,
    );
  }

  // --- brokers -------------------------------------------------------------------------------------
  const support = await loadTestSupport();
  const { startLocalStack } = await import(pathToFileURL(join(dist, 'local/index.js')).href);
  const stack = await startLocalStack({ mqttPort: 0, httpPort: 0, region: REGION });
  cleanups.push(() => stack.close());
  const aedesPort = new URL(stack.mqttUrl).port;
  const jobId = recipe.ComponentConfiguration.DefaultConfiguration.jobId;
  const namespaceId = recipe.ComponentConfiguration.DefaultConfiguration.namespaceId;
  const ids = { thingName: THING, jobId, namespaceId };
  const { subscribedTopics, publishedTopics } = await import(
    pathToFileURL(join(dist, 'jobs/topics.js')).href
  );
  const notify = { perJob: true, thing: true, thingNext: true };

  const pki = support.createTestPki(THING);
  cleanups.push(() => support.removeTestPki(pki));
  const bridge = [
    'connection ggjobs-local-stack',
    `address 127.0.0.1:${aedesPort}`,
    'bridge_protocol_version mqttv311',
    'cleansession true',
    'try_private false',
    'notifications false',
    ...publishedTopics(ids).map((t) => `topic ${t} out 1`),
    ...subscribedTopics(ids, notify).map((t) => `topic ${t} in 1`),
  ].join('\n');
  const mosquitto = await support.startMosquitto({
    tls: { caFile: pki.ca.certFile, certFile: pki.server.certFile, keyFile: pki.server.keyFile },
    extraConfig: bridge,
  });
  cleanups.push(() => mosquitto.close());

  const thingTopics = (list) => list.map((t) => t.replaceAll('{iot:thingName}', THING));
  const accessControl =
    recipe.ComponentConfiguration.DefaultConfiguration.accessControl['aws.greengrass.ipc.mqttproxy'];
  const policyResources = (op) =>
    thingTopics(Object.values(accessControl).flatMap((p) => (p.operations.includes(op) ? p.resources : [])));
  const socketPath = join(work, 'ipc.socket');
  const svcuid = 'bench-svcuid';
  const stateDirectory = join(work, 'state');
  const { accessControl: _acl, ...componentDefaults } = recipe.ComponentConfiguration.DefaultConfiguration;
  const ipc = await support.startIpcServer({
    socketPath,
    svcuid,
    mqttUrl: stack.mqttUrl,
    componentName: recipe.ComponentName,
    configuration: {
      ...recipe.ComponentConfiguration.DefaultConfiguration,
      stateDirectory,
      enroll: { ...componentDefaults.enroll, enabled: 'false' },
    },
    accessControl: {
      subscribe: policyResources('aws.greengrass#SubscribeToIoTCore'),
      publish: policyResources('aws.greengrass#PublishToIoTCore'),
    },
  });
  cleanups.push(() => ipc.close());

  const transports = {
    mqtt: { kind: 'mqtt', url: stack.mqttUrl },
    'iot-core': {
      kind: 'iot-core',
      endpoint: '127.0.0.1',
      port: mosquitto.port,
      certFile: pki.client.certFile,
      keyFile: pki.client.keyFile,
      caFile: pki.ca.certFile,
    },
    'greengrass-ipc': { kind: 'greengrass-ipc' },
  };
  const ipcEnv = {
    AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT: socketPath,
    SVCUID: svcuid,
    AWS_IOT_THING_NAME: THING,
    AWS_REGION: REGION,
  };

  // --- idle RSS ------------------------------------------------------------------------------------
  const results = [
    await idleRss('floor: node -e "setInterval(()=>{},1000)"', process.execPath, [
      '-e',
      'setInterval(()=>{},1000)',
    ]),
  ];

  const harnessFile = join(work, 'transport-harness.mjs');
  writeFileSync(harnessFile, HARNESS);
  const harnessRuns = [
    ...Object.entries(transports).map(([kind, transport]) => [
      `transport ${kind} (dist/)`,
      kind,
      transport,
      {},
    ]),
    ['transport mqtt (dist/transport/mqtt.js only)', 'mqtt', transports.mqtt, { GGJOBS_MQTT_ONLY: '1' }],
  ];
  for (const [label, kind, transport, extraEnv] of harnessRuns) {
    results.push(
      await idleRss(label, process.execPath, [harnessFile], {
        env: {
          ...process.env,
          ...(kind === 'greengrass-ipc' ? ipcEnv : {}),
          ...extraEnv,
          GGJOBS_DIST: dist,
          GGJOBS_IDS: JSON.stringify(ids),
          GGJOBS_TRANSPORT: JSON.stringify(transport),
        },
        ready: (out) => out.includes('ready'),
      }),
    );
  }

  // The component itself, run as the recipe's Run script does (same subcommand).
  const arch = process.arch === 'arm64' ? 'aarch64' : 'amd64';
  const manifest = recipe.Manifests.find((m) => m.Platform.architecture === arch);
  const runScript =
    typeof manifest.Lifecycle.Run === 'string' ? manifest.Lifecycle.Run : manifest.Lifecycle.Run.Script;
  const subcommand = runScript.trim().split(/\s+/).pop();
  const bundle = join(pkgOut, 'stage', `ggjobs-${arch}`, 'dist/cli/ggjobs.mjs');
  const help = spawnSync(process.execPath, [bundle, '--help'], { encoding: 'utf8', timeout: 30_000 });
  if (!new RegExp(`^\\s+${subcommand}\\b`, 'm').test(help.stdout)) {
    results.push({
      label: `component (${subcommand})`,
      error: `this build has no \`${subcommand}\` command`,
    });
  } else {
    for (const [kind, transport] of Object.entries(transports)) {
      const env = { ...process.env };
      const args = [bundle, subcommand];
      if (kind === 'greengrass-ipc') {
        // As under the nucleus; the ids also come as GGJOBS_* overrides, so the figure does not depend
        // on whether this build reads its component configuration over IPC.
        Object.assign(env, ipcEnv, {
          GGJOBS_JOB_ID: jobId,
          GGJOBS_NAMESPACE_ID: namespaceId,
          GGJOBS_STATE_DIRECTORY: stateDirectory,
          GGJOBS_ENROLL_ENABLED: 'false',
        });
      } else {
        const configFile = join(work, `config-${kind}.json`);
        const config = {
          thingName: THING,
          region: REGION,
          jobId,
          namespaceId,
          stateDirectory,
          transport,
          enroll: { enabled: false },
        };
        writeFileSync(configFile, JSON.stringify(config));
        args.push('--config', configFile);
      }
      const before = stack.requestCount();
      const label = `component ${kind} (bundle, ${subcommand})`;
      const result = await idleRss(label, process.execPath, args, { env, cwd: work });
      // It must have reached the Jobs data plane through its transport, or it was stuck, not idle.
      if (!result.error && stack.requestCount() === before)
        result.error = 'sent no Jobs request to the local stack';
      results.push(result);
    }
  }

  const floor = results[0].rss;
  console.log(`\nidle RSS (median of ${SAMPLES} samples after ${SETTLE_MS / 1000} s)`);
  for (const r of results) {
    const figure = r.error
      ? `n/a: ${r.error.split('\n')[0].slice(0, 160)}`
      : `${mib(r.rss).padStart(9)}  ${(r.rss / floor).toFixed(2)}x floor  (+${kb(r.rss - floor)})`;
    console.log(`  ${r.label.padEnd(48)} ${figure}`);
  }
}

try {
  await main();
} finally {
  for (const child of children) child.kill('SIGKILL');
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch {
      // best effort: the next cleanup still runs and the figures are already printed
    }
  }
  rmSync(work, { recursive: true, force: true });
}
