// What `ggjobs demo` (= `npm start`) runs, loaded only for that command: the main job end to end on
// the embedded local stack. It plays the operator (creates a thing, its group and a continuous namespaced job through the real AWS SDK),
// then runs the same agent a device runs (enroll + listen + run), configured through a generated
// config file, and reads the outcome back through the control plane.
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeJobExecutionCommand, IoTClient } from '@aws-sdk/client-iot';
import { stringify } from 'yaml';
import { startAgent } from '../../agent.js';
import { loadConfig } from '../../config/load.js';
import { startLocalStack } from '../../local/index.js';
import { createLogger, silentLogger } from '../../log.js';
import { bundledHandlerDirectory } from '../../run/index.js';
import { createJobRunner } from '../../run/runner.js';
import type { RunJob } from '../../run/types.js';
import { serveFile } from './file-server.js';
import { describeAgentEvent, describeListening, describeStepEnd, describeStepStart } from './progress.js';
import {
  createDemoResources,
  DEMO_NAMES,
  DEMO_PROGRESS_HANDLER,
  DEMO_PROGRESS_SCRIPT,
  demoJobDocument,
} from './scenario.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../main.js';

const DEMO_TIMEOUT_MS = 90_000;
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface DemoOptions {
  keepRunning?: boolean;
}

// The executor refuses a handler directory with a group- or world-writable ancestor, so the demo's
// handlers cannot live under /tmp: they go to a directory of the user's own, rewritten on each run.
async function demoHandlerDirectory(): Promise<string> {
  const dir = join(homedir(), '.ggjobs', 'demo-handlers');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  await copyFile(join(bundledHandlerDirectory(), 'echo.sh'), join(dir, 'echo.sh'));
  await chmod(join(dir, 'echo.sh'), 0o700);
  await writeFile(join(dir, DEMO_PROGRESS_HANDLER), DEMO_PROGRESS_SCRIPT, { mode: 0o700 });
  await chmod(join(dir, DEMO_PROGRESS_HANDLER), 0o700);
  return dir;
}

async function writeDemoFiles(
  work: string,
  mqttUrl: string,
  endpoint: string,
  payloadUrl: string,
  sha256: string,
) {
  const handlerDirectory = await demoHandlerDirectory();
  const downloads = join(work, 'downloads');
  const destination = join(downloads, 'payload.bin');
  const configFile = join(work, 'ggjobs.yaml');
  const config = {
    thingName: DEMO_NAMES.thingName,
    region: 'us-east-1',
    jobId: DEMO_NAMES.jobId,
    namespaceId: DEMO_NAMES.namespaceId,
    stateDirectory: join(work, 'state'),
    logLevel: 'warn',
    enroll: {
      enabled: true,
      thingGroupName: DEMO_NAMES.thingGroupName,
      comment: `self-enrolled by ${DEMO_NAMES.thingName}`,
      endpoint,
      // One device alone: no other device of its group to wait for at this first boot.
      firstBootWaitSeconds: 0,
    },
    transport: { kind: 'mqtt', url: mqttUrl },
    // A heartbeat every second, so the slow Apply-Update step shows its progress.
    listen: { progressIntervalSeconds: 1 },
    executor: { handlerDirectory, downloadDirectories: [downloads] },
  };
  await writeFile(configFile, `# written by ggjobs demo\n${stringify(config)}`);
  return { configFile, document: demoJobDocument({ url: payloadUrl, sha256, destination }), destination };
}

export async function runDemo(io: CliIo, options: DemoOptions): Promise<number> {
  const say = (line: string) => io.stdout(`${line}\n`);
  // The agent's control-plane client uses the SDK's default credential chain, exactly as on a
  // device; the local stack does not check signatures, so any credentials do.
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_CREDENTIALS.secretAccessKey;

  const stack = await startLocalStack({ mqttPort: 0, httpPort: 0, logger: silentLogger() });
  const served = await serveFile('payload.bin', randomBytes(256 * 1024));
  const client = new IoTClient({
    endpoint: stack.controlPlaneEndpoint,
    region: stack.region,
    credentials: LOCAL_CREDENTIALS,
  });
  let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
  try {
    say(`local AWS IoT stack: MQTT ${stack.mqttUrl}, control plane ${stack.controlPlaneEndpoint}`);
    const work = await mkdtemp(join(tmpdir(), 'ggjobs-demo-'));
    const files = await writeDemoFiles(
      work,
      stack.mqttUrl,
      stack.controlPlaneEndpoint,
      served.url,
      served.sha256,
    );
    say(`config file: ${files.configFile}`);

    const { jobArn } = await createDemoResources(client, DEMO_NAMES, files.document);
    say(
      `operator created continuous job ${DEMO_NAMES.jobId} in namespace ${DEMO_NAMES.namespaceId} (${jobArn})`,
    );

    // The same loading a device does, minus the caller's GGJOBS_* variables, so the demo is hermetic.
    const config = await loadConfig({ configFile: files.configFile, env: {} });
    let settle: (phase: string) => void = () => {};
    const settled = new Promise<string>((resolve) => {
      settle = resolve;
    });
    const runner = createJobRunner(config.executor, { stateDirectory: config.stateDirectory });
    const runJob: RunJob = (document, context) =>
      runner(document, {
        ...context,
        onStepStart: async (step) => {
          say(describeStepStart(step));
          await context.onStepStart(step);
        },
        onStepEnd: (step) => {
          say(describeStepEnd(step));
          context.onStepEnd?.(step);
        },
      });
    let listening = false;
    agent = await startAgent(config, {
      log: createLogger({ level: config.logLevel }),
      runJob,
      onEvent: (event) => {
        if (event.type === 'synced' && !listening) {
          listening = true;
          say(describeListening());
        }
        const line = describeAgentEvent(event);
        if (line) say(line);
        if (event.type === 'transition' && ['reported', 'dropped', 'cancelled', 'lost'].includes(event.to)) {
          settle(event.to);
        }
      },
    });

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), DEMO_TIMEOUT_MS);
    });
    const phase = await Promise.race([settled, timeout]);
    clearTimeout(timer);
    if (phase === 'timeout') {
      io.stderr(`ggjobs demo: the execution did not finish within ${DEMO_TIMEOUT_MS / 1000}s\n`);
      return EXIT.failure;
    }

    const described = await client.send(
      new DescribeJobExecutionCommand({ jobId: DEMO_NAMES.jobId, thingName: DEMO_NAMES.thingName }),
    );
    const execution = described.execution;
    say('');
    say('summary (DescribeJobExecution through the control plane):');
    say(`  job ${execution?.jobId}, thing ${execution?.thingArn}`);
    say(
      `  execution #${execution?.executionNumber}: ${execution?.status} (version ${execution?.versionNumber})`,
    );
    for (const [key, value] of Object.entries(execution?.statusDetails?.detailsMap ?? {})) {
      say(`  ${key}: ${value}`);
    }
    const downloaded = await readFile(files.destination).catch(() => undefined);
    say(
      `  downloaded file: ${files.destination} (${downloaded?.length ?? 0} bytes, expected sha256 ${served.sha256})`,
    );
    const ok = execution?.status === 'SUCCEEDED';

    if (options.keepRunning) {
      say('');
      say(keepRunningHelp(stack.controlPlaneEndpoint, stack.mqttUrl));
      await untilSignal();
    }
    return ok ? EXIT.ok : EXIT.failure;
  } finally {
    await agent?.stop({ graceMs: 5_000 });
    client.destroy();
    await served.close();
    await stack.close();
  }
}

function keepRunningHelp(endpoint: string, mqttUrl: string): string {
  const thingGroupArn = `arn:aws:iot:us-east-1:123456789012:thinggroup/${DEMO_NAMES.thingGroupName}`;
  return [
    'Everything stays up until Ctrl-C. Queue more work for the agent with the AWS CLI, for example:',
    `  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1`,
    `  echo '{"version":"1.0","steps":[{"action":{"name":"Hello","type":"runHandler","input":{"handler":"echo.sh","args":["again"]}}}]}' > job.json`,
    `  aws iot create-job --endpoint-url ${endpoint} --job-id demo-2 --namespace-id ${DEMO_NAMES.namespaceId} \\`,
    `      --target-selection CONTINUOUS --targets ${thingGroupArn} --document file://job.json`,
    `  aws iot list-job-executions-for-thing --endpoint-url ${endpoint} --thing-name ${DEMO_NAMES.thingName}`,
    `Note: this agent runs job ${DEMO_NAMES.jobId}; a second agent (ggjobs start --config FILE --job-id demo-2)`,
    `runs demo-2. Watch the MQTT traffic with: mosquitto_sub -L '${mqttUrl}/$aws/things/#' -v`,
  ].join('\n');
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
