// The component as a device runs it: the esbuild bundle that `npm run package` ships (code-split
// chunks, the AWS SDK and the device SDK imported on demand), not dist/. Lazily imported CommonJS
// packages have another shape inside a bundle than under Node.js, so the bundle itself must enroll
// through the control plane and talk over the nucleus' IPC (device SDK), end to end.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  componentConfiguration,
  componentEnvironment,
  deviceConfig,
  handlerDirectory,
  JOBS_ACCESS,
  type JobsStack,
  SITE_GROUP,
  saveAtomically,
  spawnGgjobs,
  startJobsStack,
  THING,
} from '../agent/helpers.js';
import { ROOT } from '../cli/run-cli.js';
import { safeTempDir } from '../support/safe-dir.js';
import { type IpcTestServer, startIpcServer } from './ipc-server/index.js';

const WAIT = { timeout: 45_000, interval: 100 };
let entry: string;
let js: JobsStack | undefined;
let server: IpcTestServer | undefined;
let agent: AgentProcess | undefined;
const dirs: string[] = [];

beforeAll(async () => {
  const component = await safeTempDir('ggjobs-bundle-', 0o755);
  dirs.push(component);
  const packaging = (await import(pathToFileURL(join(ROOT, 'scripts', 'package.mjs')).href)) as {
    bundle(outdir: string): Promise<unknown>;
    PLATFORMS: Array<{ nodeArch: string; crtDir: string }>;
  };
  await packaging.bundle(join(component, 'dist', 'cli'));
  await copyFile(join(ROOT, 'package.json'), join(component, 'package.json'));
  // The native library the device SDK needs, where the packaged artifact has it (scripts/package.mjs).
  const platform = packaging.PLATFORMS.find((p) => p.nodeArch === process.arch);
  if (!platform) throw new Error(`no component platform for ${process.arch}`);
  const crt = join(component, 'dist', 'cli', 'aws-crt', 'bin', platform.crtDir);
  await mkdir(crt, { recursive: true });
  await copyFile(
    join(ROOT, 'node_modules', 'aws-crt', 'dist', 'bin', platform.crtDir, 'aws-crt-nodejs.node'),
    join(crt, 'aws-crt-nodejs.node'),
  );
  entry = join(component, 'dist', 'cli', 'ggjobs.mjs');
}, 120_000);

afterEach(async () => {
  await agent?.stop('SIGKILL');
  agent = undefined;
  await server?.close();
  server = undefined;
  await js?.close();
  js = undefined;
  for (const dir of dirs.splice(1)) await rm(dir, { recursive: true, force: true });
});

async function deviceWithJob(jobId: string): Promise<{ work: string; handlers: string }> {
  js = await startJobsStack();
  const work = await safeTempDir('ggjobs-bundle-device-');
  dirs.push(work);
  const handlers = await handlerDirectory(work);
  await js.createThing(THING, [SITE_GROUP]);
  // The job targets another group: the device's own group becomes a target only by enrolling.
  await js.createJob(jobId, { word: 'bundled' });
  return { work, handlers };
}

describe('the component bundle', () => {
  it('enrolls, runs an execution and reports SUCCEEDED over Greengrass IPC', async () => {
    const { work, handlers } = await deviceWithJob('job-bundle-ipc');
    server = await startIpcServer({
      socketPath: join(work, 'nucleus.sock'),
      svcuid: 'bundle-svcuid',
      mqttUrl: js!.stack.mqttUrl,
      componentName: 'io.ggjobs.JobsAgent',
      configuration: componentConfiguration(js!, work, handlers, { jobId: 'job-bundle-ipc' }),
      accessControl: JOBS_ACCESS,
    });
    agent = spawnGgjobs(['start'], componentEnvironment(js!, server.socketPath, 'bundle-svcuid'), entry);
    await expect.poll(async () => (await js!.execution('job-bundle-ipc'))?.status, WAIT).toBe('SUCCEEDED');
    expect(await js!.jobTargets('job-bundle-ipc')).toContain(js!.groupArn(SITE_GROUP));
    expect((await js!.execution('job-bundle-ipc'))?.statusDetails?.detailsMap?.stdout).toContain('bundled');
    expect(await agent.stop('SIGTERM')).toBe(0);
    expect(agent.stderr).not.toMatch(/unexpected error|is not a constructor/);
  });

  it('enrolls, runs an execution and reports SUCCEEDED with the mqtt transport', async () => {
    const { work, handlers } = await deviceWithJob('job-bundle-mqtt');
    const file = join(work, 'ggjobs.yaml');
    await saveAtomically(file, deviceConfig(js!, work, handlers, { jobId: 'job-bundle-mqtt' }));
    agent = spawnGgjobs(['start', '--config', file], {}, entry);
    await expect.poll(async () => (await js!.execution('job-bundle-mqtt'))?.status, WAIT).toBe('SUCCEEDED');
    expect(await js!.jobTargets('job-bundle-mqtt')).toContain(js!.groupArn(SITE_GROUP));
    expect(await agent.stop('SIGTERM')).toBe(0);
  });
});
