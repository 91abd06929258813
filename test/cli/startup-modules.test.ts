// What the CLI loads: each command imports its own code on demand, so `--version` loads nothing but
// the entry point, `--help` commander and the command declarations only, and `ggjobs start` with
// enrollment off never loads the AWS SDK, the embedded local stack (aedes) or the demo. The child process reports every module it loaded
// (test/support/loaded-modules.mjs, preloaded through NODE_OPTIONS).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  deviceConfig,
  handlerDirectory,
  type JobsStack,
  saveAtomically,
  spawnGgjobs,
  startJobsStack,
  waitFor,
} from '../agent/helpers.js';
import { ROOT } from './run-cli.js';

const PRELOAD = join(ROOT, 'test/support/loaded-modules.mjs');

/** Module URLs as paths relative to the repository (node_modules/x/... or dist/...). */
async function loadedModules(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((url) => decodeURIComponent(url.replace(/^file:\/\//, '')).replace(ROOT, ''));
}

const packagesOf = (modules: string[]) =>
  new Set(
    modules.flatMap((m) => {
      const match = /node_modules\/((@[^/]+\/)?[^/]+)\//.exec(m);
      return match?.[1] ? [match[1]] : [];
    }),
  );

describe('modules loaded at start-up', () => {
  let work: string;
  let js: JobsStack | undefined;
  let agent: AgentProcess | undefined;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'ggjobs-startup-'));
  });

  afterEach(async () => {
    await agent?.stop('SIGKILL');
    agent = undefined;
    await js?.close();
    js = undefined;
    await rm(work, { recursive: true, force: true });
  });

  const spawnReporting = (args: string[]) => {
    const list = join(work, 'loaded.txt');
    const child = spawnGgjobs(args, {
      NODE_OPTIONS: `--import=${PRELOAD}`,
      GGJOBS_LOADED_MODULES_FILE: list,
    });
    return { child, list };
  };

  it('--version is answered by the entry point: no package and no command is loaded', async () => {
    const { child, list } = spawnReporting(['--version']);
    agent = child;
    expect(await child.waitExit(30_000)).toBe(0);
    expect(child.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const modules = await loadedModules(list);
    expect([...packagesOf(modules)]).toEqual([]);
    expect(modules.filter((m) => m.startsWith('dist/'))).toEqual([
      'dist/cli/entry.js',
      'dist/cli/version.js',
    ]);
  });

  it('--help loads commander and the command declarations only', async () => {
    const { child, list } = spawnReporting(['--help']);
    agent = child;
    expect(await child.waitExit(30_000)).toBe(0);
    const modules = await loadedModules(list);
    expect([...packagesOf(modules)]).toEqual(['commander']);
    const ours = modules.filter((m) => m.startsWith('dist/'));
    expect(ours).toContain('dist/cli/main.js');
    expect(
      ours.filter(
        (m) =>
          !/^dist\/(cli\/(entry|version|main|exit-codes|commands\/[\w-]+)|errors|log-format|config\/patterns|local\/defaults|local\/tls\/names)\.js$/.test(
            m,
          ),
      ),
    ).toEqual([]);
  });

  it('start with enroll disabled loads neither the AWS SDK, nor the local stack, nor the demo', async () => {
    js = await startJobsStack();
    const handlers = await handlerDirectory(work);
    const file = join(work, 'ggjobs.yaml');
    await saveAtomically(file, deviceConfig(js, work, handlers));
    const { child, list } = spawnReporting(['start', '--no-enroll', '--config', file]);
    agent = child;
    await waitFor(
      () => child.logLines().find((l) => l.msg === 'listening for job executions'),
      'the agent to listen',
      30_000,
    );
    expect(await child.stop('SIGTERM')).toBe(0);
    const modules = await loadedModules(list);
    // It did load what listening needs...
    expect(modules).toContain('dist/jobs/listener.js');
    expect(modules).toContain('dist/transport/mqtt.js');
    const packages = packagesOf(modules);
    expect(packages).toContain('mqtt');
    // ...and none of this.
    for (const absent of [
      '@aws-sdk/client-iot',
      'aedes',
      'aws-iot-device-sdk-v2',
      'aws-crt',
      'pino-pretty',
    ]) {
      expect(packages, absent).not.toContain(absent);
    }
    expect(modules.filter((m) => m.startsWith('dist/cli/demo/'))).toEqual([]);
    // Only the light declarations `ggjobs local` needs for its options: no broker, no crypto library.
    expect(
      modules.filter(
        (m) =>
          m.startsWith('dist/local/') && !['dist/local/defaults.js', 'dist/local/tls/names.js'].includes(m),
      ),
    ).toEqual([]);
  });

  it('start loads the AWS SDK only when it calls the control plane: not once the enrollment is recorded', async () => {
    js = await startJobsStack();
    await js.createThing('core-1', ['site-a']);
    await js.createJob('job-a');
    const handlers = await handlerDirectory(work);
    const file = join(work, 'ggjobs.yaml');
    await saveAtomically(file, deviceConfig(js, work, handlers));
    // The agent listens first, then enrolls: wait for the outcome of the enrollment.
    const enrolled = (c: AgentProcess) =>
      waitFor(() => c.logLines().find((l) => l.msg === 'enrolled'), 'the agent to enroll', 30_000);

    // First start: nothing recorded, no execution yet, so the control plane is asked (SDK loaded).
    const first = spawnReporting(['start', '--config', file]);
    agent = first.child;
    expect(await enrolled(first.child)).toMatchObject({ result: 'associated' });
    expect(await first.child.stop('SIGTERM')).toBe(0);
    expect(packagesOf(await loadedModules(first.list))).toContain('@aws-sdk/client-iot');
    const calls = js.stack.requestCount('DescribeThingGroup') + js.stack.requestCount('DescribeJob');

    // Second start: enrolled as recorded; no control-plane call, no SDK.
    const second = spawnReporting(['start', '--config', file]);
    agent = second.child;
    expect(await enrolled(second.child)).toMatchObject({ result: 'recorded' });
    expect(await second.child.stop('SIGTERM')).toBe(0);
    expect(packagesOf(await loadedModules(second.list))).not.toContain('@aws-sdk/client-iot');
    expect(js.stack.requestCount('DescribeThingGroup') + js.stack.requestCount('DescribeJob')).toBe(calls);
  });
});
