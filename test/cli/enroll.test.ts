// `ggjobs enroll` as a field technician runs it, against the local AWS IoT stack: the compiled CLI in
// a child process where stderr (logs, warnings) is asserted, in-process (main()) everywhere else.
// Exit codes: 0 associated / already associated, 2 invalid config, 3 job not usable, 4 unreachable or
// still throttled.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type EnrollFixture, JOB_ID, NAMESPACE, startEnrollFixture } from '../enroll/local-fixture.js';
import { ggjobsInProcess } from './in-process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'SECRETdoNotLog0123456789';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with a clean environment: local credentials only, nothing inherited from the test runner. */
function ggjobs(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'bin/ggjobs.js'), ...args],
      {
        cwd: root,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: tmpdir(),
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: SECRET,
          AWS_EC2_METADATA_DISABLED: 'true',
          ...env,
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `ggjobs ...args` in this process, with the same clean environment as ggjobs() (logs silenced). */
function inProcess(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  for (const name of Object.keys(process.env)) {
    if (/^(GGJOBS_|AWS_)/.test(name) && name !== 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED')
      vi.stubEnv(name, undefined);
  }
  const all: Record<string, string> = {
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: SECRET,
    AWS_EC2_METADATA_DISABLED: 'true',
    GGJOBS_LOG_LEVEL: 'silent',
    ...env,
  };
  for (const [name, value] of Object.entries(all)) vi.stubEnv(name, value);
  return ggjobsInProcess(...args);
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('ggjobs enroll', () => {
  let fx: EnrollFixture;
  let dir: string;
  beforeEach(async () => {
    fx = await startEnrollFixture();
    dir = await mkdtemp(join(tmpdir(), 'ggjobs-cli-enroll-'));
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await fx.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function configFile(extra = '', enroll = 'thingGroupName: site-a'): Promise<string> {
    const file = join(dir, 'ggjobs.yaml');
    await writeFile(
      file,
      [
        'thingName: core-1',
        `region: ${fx.stack.region}`,
        `jobId: ${JOB_ID}`,
        `namespaceId: ${NAMESPACE}`,
        'logLevel: info',
        'transport:',
        '  kind: mqtt',
        `  url: ${fx.stack.mqttUrl}`,
        'enroll:',
        `  endpoint: ${fx.stack.controlPlaneEndpoint}`,
        `  ${enroll}`,
        '  retry:',
        '    maxAttempts: 3',
        '    baseDelayMs: 20',
        '    maxDelayMs: 100',
        extra,
      ].join('\n'),
    );
    return file;
  }

  it('exits 0 and prints exactly one JSON line with --json, then says already-associated', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID);
    const file = await configFile();
    const first = await ggjobs(['enroll', '--config', file, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      result: 'associated',
      jobArn: `arn:aws:iot:${fx.stack.region}:${fx.stack.accountId}:job/${JOB_ID}`,
      thingGroupArn: fx.groupArn('site-a'),
    });
    expect(await fx.jobTargets(JOB_ID)).toContain(fx.groupArn('site-a'));

    const second = await ggjobs(['enroll', '--config', file, '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ result: 'already-associated' });
    expect(fx.stack.requestCount('AssociateTargetsWithJob')).toBe(1);

    // Logs are pino JSON lines on stderr, and never carry the credentials.
    const logLine = second.stderr.split('\n').find((l) => l.includes('enroll: already-associated'));
    expect(JSON.parse(logLine!)).toMatchObject({ result: 'already-associated', jobId: JOB_ID });
    expect(first.stderr + second.stderr + first.stdout + second.stdout).not.toContain(SECRET);
  });

  it('prints no AWS SDK warning (NodeVersionSupportWarning) on stderr', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID);
    const run = await ggjobs(['enroll', '--config', await configFile(), '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('Warning');
    // Only pino's JSON lines reach stderr: every non-empty line parses.
    const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it('works with the smallest configuration: no transport, no executor', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID);
    const file = join(dir, 'enroll-only.yaml');
    await writeFile(
      file,
      [
        'thingName: core-1',
        `region: ${fx.stack.region}`,
        `jobId: ${JOB_ID}`,
        `namespaceId: ${NAMESPACE}`,
        'enroll:',
        `  endpoint: ${fx.stack.controlPlaneEndpoint}`,
      ].join('\n'),
    );
    const run = await inProcess(['enroll', '--config', file, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      result: 'associated',
      thingGroupArn: fx.groupArn('site-a'),
    });

    await writeFile(file, `thingName: core-1\nregion: ${fx.stack.region}\njobId: ${JOB_ID}\n`);
    const missing = await inProcess(['enroll', '--config', file]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('namespaceId: required (1-64 characters of [a-zA-Z0-9_-])');
    expect(missing.stderr).not.toContain('transport');
  });

  it('says what happened in words without --json', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID);
    const run = await inProcess(['enroll', '--config', await configFile()]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^associated: thing group is now a target of job arn:aws:iot:.*:job\/site-maintenance/,
    );
    expect(run.stdout).toContain(fx.groupArn('site-a'));
  });

  it('flags override the config file', async () => {
    await fx.createThing('core-2', ['site-b']);
    await fx.createJob('other-job');
    const file = await configFile('', 'comment: by flag test');
    const run = await inProcess([
      'enroll',
      '--config',
      file,
      '--json',
      '--thing-name',
      'core-2',
      '--job-id',
      'other-job',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      result: 'associated',
      thingGroupArn: fx.groupArn('site-b'),
    });
  });

  it('exits 2 for an invalid configuration, naming the key, value and source', async () => {
    const file = await configFile();
    const run = await inProcess(['enroll', '--config', file, '--job-id', 'x y'], {
      GGJOBS_LOG_LEVEL: 'loud',
    });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      'jobId "x y": must be 1-64 characters of [a-zA-Z0-9_-] (from flag --job-id)',
    );
    expect(run.stderr).toContain(
      'logLevel "loud": must be one of fatal, error, warn, info, debug, trace, silent (from env GGJOBS_LOG_LEVEL)',
    );
  });

  it('exits 2 for a missing or broken config file', async () => {
    const missing = await inProcess(['enroll', '--config', join(dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`config file ${join(dir, 'nope.yaml')}: file not found`);
    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, 'jobId: [unclosed\n');
    const bad = await inProcess(['enroll', '--config', broken]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid YAML at line \d+, column \d+/);
  });

  it('exits 3 when the job cannot take the group (missing, snapshot)', async () => {
    await fx.createThing('core-1', ['site-a']);
    const file = await configFile();
    const missing = await inProcess(['enroll', '--config', file, '--json']);
    expect(missing.code).toBe(3);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain(`job "${JOB_ID}" not found`);
    await fx.createJob(JOB_ID, { targetSelection: 'SNAPSHOT' });
    const snapshot = await inProcess(['enroll', '--config', file]);
    expect(snapshot.code).toBe(3);
    expect(snapshot.stderr).toContain('SNAPSHOT');
  });

  it('exits 4 when AWS IoT stays throttled', async () => {
    await fx.createThing('core-1', ['site-a']);
    await fx.createJob(JOB_ID);
    fx.stack.setRateLimit('DescribeJob', { ratePerSecond: 0 });
    const run = await inProcess(['enroll', '--config', await configFile(), '--json']);
    expect(run.code).toBe(4);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('still failing after 3 attempts');
    expect(run.stderr).toContain('ThrottlingException');
    expect(fx.stack.requestCount('DescribeJob')).toBe(3);
  });

  it('exits 4 when the control plane is unreachable', async () => {
    const file = await configFile();
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const run = await inProcess(['enroll', '--config', file, '--endpoint', endpoint]);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('ECONNREFUSED');
    expect(run.stderr).toContain(endpoint.replace('http://', ''));
  });
});
