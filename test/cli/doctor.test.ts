// `ggjobs doctor` against the local AWS IoT stack: every check passes on a good setup (exit 0), and a
// deliberately broken one (bad modes, a non-executable handler, a lock held by a running process, an
// unreadable journal record, an unreachable broker, a missing job) fails exactly those checks, each
// with its fix (exit 1).
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type EnrollFixture, JOB_ID, NAMESPACE, startEnrollFixture } from '../enroll/local-fixture.js';
import { handlerDirectoriesOf } from '../../src/cli/diagnostics/handler-checks.js';
import type { ExecutorConfig } from '../../src/config/schema.js';
import { safeTempDir } from '../support/safe-dir.js';
import { ggjobsInProcess } from './in-process.js';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

let fx: EnrollFixture;
let dir: string;
beforeEach(async () => {
  fx = await startEnrollFixture();
  // Under a trusted base: the executor (and so doctor) refuses handler directories below /tmp.
  dir = await safeTempDir('ggjobs-doctor-');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
  vi.stubEnv('AWS_PROFILE', undefined);
  for (const name of Object.keys(process.env)) if (name.startsWith('GGJOBS_')) vi.stubEnv(name, undefined);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await fx.close();
  await rm(dir, { recursive: true, force: true });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A handler directory as the executor wants it: 0700, owned by us, one executable handler. */
async function handlerDirectory(name = 'handlers'): Promise<string> {
  const handlers = join(dir, name);
  await mkdir(handlers, { mode: 0o700 });
  await chmod(handlers, 0o700);
  await writeFile(join(handlers, 'echo.sh'), '#!/bin/sh\necho "$@"\n', { mode: 0o755 });
  await chmod(join(handlers, 'echo.sh'), 0o755);
  return handlers;
}

async function configFile(
  patch: { mqttUrl?: string; handlers?: string; jobId?: string } = {},
): Promise<string> {
  const file = join(dir, 'ggjobs.yaml');
  await writeFile(
    file,
    [
      'thingName: core-1',
      `region: ${fx.stack.region}`,
      `jobId: ${patch.jobId ?? JOB_ID}`,
      `namespaceId: ${NAMESPACE}`,
      `stateDirectory: ${join(dir, 'state')}`,
      'transport:',
      '  kind: mqtt',
      `  url: ${patch.mqttUrl ?? fx.stack.mqttUrl}`,
      'enroll:',
      `  endpoint: ${fx.stack.controlPlaneEndpoint}`,
      'executor:',
      `  handlerDirectory: ${patch.handlers ?? (await handlerDirectory())}`,
    ].join('\n'),
  );
  return file;
}

async function doctorJson(file: string): Promise<{ code: number; checks: Check[] }> {
  const run = await ggjobsInProcess('doctor', '--config', file, '--json', '--timeout', '3');
  const out = JSON.parse(run.stdout) as { ok: boolean; checks: Check[] };
  expect(out.ok).toBe(run.code === 0);
  return { code: run.code, checks: out.checks };
}

function check(checks: Check[], name: string): Check {
  const found = checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check "${name}" in ${checks.map((c) => c.name).join(', ')}`);
  return found;
}

describe('ggjobs doctor', () => {
  it('passes every check on a working setup and exits 0', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID);
    const file = await configFile();
    const run = await ggjobsInProcess('doctor', '--config', file);
    expect(run.code, run.stdout).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('all 10 checks passed');
    for (const line of lines.slice(0, -2)) expect(line).toMatch(/^ok {6}\S/);
    expect(run.stdout).toContain('ok      transport reachable: MQTT broker mqtt://127.0.0.1:');
    expect(run.stdout).toContain('ok      job topics subscribable: 7 topics');
    expect(run.stdout).toContain(
      `ok      job answers DescribeJob: ${JOB_ID}: namespace ${NAMESPACE}, CONTINUOUS, IN_PROGRESS`,
    );
    expect(run.stdout).toContain('ok      handler echo.sh: ');
  });

  it('fails the broken checks, each with its fix, and exits 1', async () => {
    await fx.createThing('core-1', ['site-a']);
    const handlers = await handlerDirectory('loose-handlers');
    await chmod(handlers, 0o777);
    const file = await configFile({ mqttUrl: `mqtt://127.0.0.1:${await closedPort()}`, handlers });
    const state = join(dir, 'state');
    await mkdir(join(state, 'executions', 'core-1', NAMESPACE, JOB_ID), { recursive: true });
    await writeFile(join(state, 'executions', 'core-1', NAMESPACE, JOB_ID, '4.json'), '{half a rec');
    // The parent process (the test runner) is alive and is not doctor itself.
    await writeFile(join(state, 'agent.lock'), `${process.ppid}\n`);

    const { code, checks } = await doctorJson(file);
    expect(code).toBe(1);
    expect(check(checks, 'configuration valid').ok).toBe(true);
    expect(check(checks, 'state directory writable').ok).toBe(true);

    const lock = check(checks, 'state directory not locked');
    expect(lock).toMatchObject({
      ok: false,
      detail: expect.stringContaining(`running agent (PID ${process.ppid}`),
    });
    expect(lock.fix).toContain('one agent per state directory');

    const journal = check(checks, 'journal readable');
    expect(journal.ok).toBe(false);
    expect(journal.detail).toMatch(/4\.json: not JSON/);

    const directory = check(checks, `handler directory ${handlers}`);
    expect(directory.ok).toBe(false);
    expect(directory.detail).toContain('is mode 0777 (group/other writable); must be 0755 or stricter');
    expect(directory.fix).toContain(`chmod 0755 ${handlers}`);

    const transport = check(checks, 'transport reachable');
    expect(transport.ok).toBe(false);
    expect(transport.detail).toContain('no connection within 3 s');
    expect(transport.detail).toContain('ECONNREFUSED');
    expect(transport.fix).toContain('transport.url');

    const job = check(checks, 'job answers DescribeJob');
    expect(job.ok).toBe(false);
    expect(job.detail).toContain(`job "${JOB_ID}" not found`);
    expect(job.fix).toContain('create the continuous job');
    expect(check(checks, 'AWS credentials resolvable').ok).toBe(true);
  });

  it('names a handler that is not executable, and a job that is not in the namespace', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob('other-ns-job', { namespaceId: 'elsewhere' });
    const handlers = await handlerDirectory();
    await writeFile(join(handlers, 'notes.txt'), 'not a handler\n', { mode: 0o644 });
    await chmod(join(handlers, 'notes.txt'), 0o644);
    const run = await ggjobsInProcess(
      'doctor',
      '--config',
      await configFile({ handlers, jobId: 'other-ns-job' }),
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('ok      handler echo.sh:');
    expect(run.stdout).toMatch(
      /FAILED {2}handler notes\.txt: handler .*notes\.txt is not executable \(mode 0644\)/,
    );
    expect(run.stdout).toMatch(
      /FAILED {2}job answers DescribeJob: other-ns-job: namespace elsewhere, CONTINUOUS, IN_PROGRESS; namespace is elsewhere, configured namespaceId is acme-ops\n {8}fix: /,
    );
    expect(run.stdout.trim().split('\n').at(-1)).toBe('2 of 11 checks FAILED');
  });

  it('names the ancestor that makes a handler directory unsafe, as the executor would refuse it', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID);
    const exposed = await mkdtemp(join(tmpdir(), 'ggjobs-doctor-exposed-'));
    try {
      const handlers = join(exposed, 'handlers');
      await mkdir(handlers, { mode: 0o700 });
      const run = await ggjobsInProcess('doctor', '--config', await configFile({ handlers }));
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(
        `FAILED  handler directory ${handlers}: /tmp is mode 1777 (group/other writable; the sticky bit is not enough)`,
      );
    } finally {
      await rm(exposed, { recursive: true, force: true });
    }
  });

  it('fails a system directory listed as a handler directory, without listing its programs', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID);
    const handlers = await handlerDirectory();
    const file = await configFile({ handlers });
    await writeFile(file, `${await readFile(file, 'utf8')}\n  handlerDirectories: [${handlers}, /usr/bin]\n`);
    const { code, checks } = await doctorJson(file);
    expect(code).toBe(1);
    const usrBin = check(checks, 'handler directory /usr/bin');
    expect(usrBin.ok).toBe(false);
    expect(usrBin.detail).toBe(
      '/usr/bin is a system directory: a job document could run any of its programs with any arguments',
    );
    expect(usrBin.fix).toContain('executor.allowedCommands');
    expect(check(checks, `handler directory ${handlers}`).ok).toBe(true);
    expect(
      checks.filter((c) => c.name.startsWith('handler ') && !c.name.startsWith('handler directory')),
    ).toHaveLength(1);
  });

  it('stops at an invalid configuration, naming the problems, and exits 1', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'thingName: core-1\nregion: nowhere\n');
    const run = await ggjobsInProcess('doctor', '--config', file);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAILED {2}configuration valid: region "nowhere": must be an AWS region/);
    expect(run.stdout).toContain('jobId: required');
    expect(run.stdout).toContain('fix: ggjobs config check shows every setting');
    expect(run.stdout.trim().split('\n').at(-1)).toBe('1 of 1 checks FAILED');
  });

  it('refuses a timeout that is not a number of seconds', async () => {
    const run = await ggjobsInProcess('doctor', '--timeout', 'soon');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--timeout "soon": must be a number of seconds from 1 to 600');
  });

  it('checks every executor.handlerDirectories entry when the configuration has one, else the one directory', () => {
    const base = {
      allowFileUrls: false,
      sudo: true,
      allowedCommands: [],
      defaultStepTimeoutSeconds: 1,
      killGraceSeconds: 1,
      maxDownloadBytes: 1,
      environment: {},
    };
    const many = { ...base, handlerDirectory: '/a', handlerDirectories: ['/a', '/b'] } as ExecutorConfig;
    expect(handlerDirectoriesOf(many, '/home/gg', 1000)).toEqual(['/a', '/b']);
    expect(
      handlerDirectoriesOf({ ...base, handlerDirectory: '/a' } as ExecutorConfig, '/home/gg', 1000),
    ).toEqual(['/a']);
    expect(handlerDirectoriesOf(base as ExecutorConfig, '/home/gg', 1000)).toEqual([
      '/home/gg/.ggjobs/handlers',
    ]);
    expect(handlerDirectoriesOf(base as ExecutorConfig, '/root', 0)).toEqual(['/etc/ggjobs/handlers']);
  });
});
