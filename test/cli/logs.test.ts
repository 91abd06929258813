// What a technician sees on stderr when `ggjobs start` fails: with --log-format pretty (the default on
// a terminal) one readable line and the error printed once; otherwise JSON lines a collector can parse.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EnrollFixture, NAMESPACE, startEnrollFixture } from '../enroll/local-fixture.js';
import { ROOT } from './run-cli.js';

function ggjobs(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin/ggjobs.js'), ...args],
      {
        cwd: ROOT,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: tmpdir(),
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      },
    );
  });
}

describe('ggjobs start logs', () => {
  let fx: EnrollFixture;
  let dir: string;
  let file: string;
  beforeEach(async () => {
    fx = await startEnrollFixture();
    await fx.createThing('core-1', ['site-a']);
    dir = await mkdtemp(join(tmpdir(), 'ggjobs-logs-'));
    file = join(dir, 'ggjobs.yaml');
    // No such job: enrollment fails and ends the process (exit 3).
    await writeFile(
      file,
      [
        'thingName: core-1',
        `region: ${fx.stack.region}`,
        'jobId: no-such-job',
        `namespaceId: ${NAMESPACE}`,
        `stateDirectory: ${join(dir, 'state')}`,
        `transport: { kind: mqtt, url: "${fx.stack.mqttUrl}" }`,
        `enroll: { endpoint: "${fx.stack.controlPlaneEndpoint}", thingGroupName: site-a, firstBootWaitSeconds: 0 }`,
      ].join('\n'),
    );
  });
  afterEach(async () => {
    await fx.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints readable lines and the ending error once with --log-format pretty', async () => {
    const run = await ggjobs(['start', '--config', file, '--log-format', 'pretty']);
    expect(run.code).toBe(3);
    const lines = run.stderr.split('\n').filter((l) => l !== '');
    for (const line of lines) expect(line).toMatch(/^\[\d\d:\d\d:\d\d\] [A-Z]+: /);
    expect(run.stderr.match(/job "no-such-job" not found/g)).toHaveLength(1);
    expect(run.stderr).toMatch(/ERROR: ggjobs failed; stopping: job "no-such-job" not found/);
  });

  it('prints JSON lines when stderr is not a terminal', async () => {
    const run = await ggjobs(['start', '--config', file]);
    expect(run.code).toBe(3);
    const lines = run.stderr.split('\n').filter((l) => l !== '');
    const last = lines.pop();
    expect(last).toMatch(/^ggjobs: job "no-such-job" not found/);
    expect(lines.length).toBeGreaterThan(0);
    const entries = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(entries.at(-1)).toMatchObject({ level: 50, msg: 'ggjobs failed; stopping' });
  });

  it('refuses an unknown log format', async () => {
    const run = await ggjobs(['start', '--config', file, '--log-format', 'xml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("argument 'xml' is invalid. Allowed choices are json, pretty.");
  });
});
