import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Journal } from '../../src/jobs/journal.js';
import { silentLogger } from '../../src/log.js';
import { removeTempDirs, tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
afterEach(removeTempDirs);

async function stateWithHistory(): Promise<{ configFile: string; state: string }> {
  const dir = tempDir();
  const state = join(dir, 'state');
  const ids = { thingName: 'core-1', jobId: 'fleet-job', namespaceId: 'ggjobs' };
  const journal = new Journal({ stateDirectory: state, ids, log: silentLogger() });
  await journal.save({
    executionNumber: 1,
    phase: 'reported',
    startedAt: '2025-01-01T10:00:00.000Z',
    finishedAt: '2025-01-01T10:01:00.000Z',
    closedAt: '2025-01-01T10:01:01.000Z',
    outcome: { status: 'SUCCEEDED', statusDetails: { reason: 'done' } },
  });
  await journal.save({
    executionNumber: 2,
    phase: 'finished',
    startedAt: '2025-01-02T10:00:00.000Z',
    finishedAt: '2025-01-02T10:05:00.000Z',
    lastStep: { index: 1, name: 'install', resumable: false, startedAt: '2025-01-02T10:01:00.000Z' },
    outcome: { status: 'FAILED', statusDetails: { reason: 'interrupted', step: 'install' } },
    sendAttempts: 4,
  });
  await journal.close();
  const configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      thingName: 'core-1',
      region: 'us-east-1',
      jobId: 'fleet-job',
      namespaceId: 'ggjobs',
      stateDirectory: state,
      transport: { kind: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
    }),
  );
  return { configFile, state };
}

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['node', 'ggjobs', ...args], {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

describe('ggjobs status', () => {
  it('prints the configured job, the latest executions and the outbox', async () => {
    const { configFile, state } = await stateWithHistory();
    const { code, out } = await run('status', '--config', configFile);
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toBe('thing core-1  job fleet-job  namespace ggjobs');
    expect(lines[1]).toBe(`journal ${join(state, 'executions', 'core-1', 'ggjobs', 'fleet-job')}`);
    const two = lines.find((l) => l.startsWith('  #2'))!;
    expect(two).toContain('FAILED');
    expect(two).toContain('finished, waiting in the outbox');
    expect(two).toContain('reason interrupted');
    expect(two).toContain('last step 1 install');
    const one = lines.find((l) => l.startsWith('  #1'))!;
    expect(one).toContain('SUCCEEDED');
    expect(one).toContain('started 2025-01-01T10:00:00.000Z');
    expect(one).toContain('finished 2025-01-01T10:01:00.000Z');
    expect(lines.indexOf(two)).toBeLessThan(lines.indexOf(one));
    expect(out).toContain(
      'outbox (final statuses not yet accepted by AWS IoT):\n  #2  FAILED  failed sends 4  reason interrupted',
    );
  });

  it('prints JSON with --json', async () => {
    const { configFile } = await stateWithHistory();
    const { code, out } = await run('status', '--config', configFile, '--json');
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report).toMatchObject({ thingName: 'core-1', jobId: 'fleet-job', namespaceId: 'ggjobs' });
    expect(
      report.executions.map((e: { executionNumber: number; status: string; phase: string }) => [
        e.executionNumber,
        e.status,
        e.phase,
      ]),
    ).toEqual([
      [2, 'FAILED', 'finished'],
      [1, 'SUCCEEDED', 'reported'],
    ]);
    expect(report.outbox).toEqual([
      {
        executionNumber: 2,
        status: 'FAILED',
        reason: 'interrupted',
        sendAttempts: 4,
        finishedAt: '2025-01-02T10:05:00.000Z',
      },
    ]);
  });

  it('says so when nothing ran yet, and warns about unreadable records', async () => {
    const { configFile, state } = await stateWithHistory();
    const empty = join(tempDir(), 'empty-state');
    const res = await run('status', '--config', configFile, '--state-directory', empty);
    expect(res.code).toBe(0);
    expect(res.out).toContain('executions: none recorded');
    expect(res.out).toContain('outbox: empty');
    writeFileSync(join(state, 'executions', 'core-1', 'ggjobs', 'fleet-job', '3.json'), '{broken');
    const broken = await run('status', '--config', configFile);
    expect(broken.out).toMatch(/warning: unreadable journal record .*3\.json: not JSON/);
  });

  it('exits 2 naming the problem when the config is invalid', async () => {
    const dir = tempDir();
    const configFile = join(dir, 'bad.json');
    writeFileSync(configFile, JSON.stringify({ thingName: 'core-1', jobId: 'x y', stateDirektory: 's' }));
    const res = await run('status', '--config', configFile);
    expect(res.code).toBe(2);
    expect(res.err).toContain('jobId "x y": must be 1-64 characters of [a-zA-Z0-9_-]');
    expect(res.err).toContain('stateDirektory: unknown key (did you mean stateDirectory?)');
  });

  it('needs only the state directory: reports every job journalled there', async () => {
    const { state } = await stateWithHistory();
    const other = new Journal({
      stateDirectory: state,
      ids: { thingName: 'core:2', jobId: 'other-job', namespaceId: 'ops' },
      log: silentLogger(),
    });
    await other.save({ executionNumber: 7, phase: 'started', startedAt: '2025-01-03T10:00:00.000Z' });
    await other.close();
    const res = await run('status', '--state-directory', state);
    expect(res.code, res.err).toBe(0);
    expect(res.out).toContain('thing core-1  job fleet-job  namespace ggjobs');
    expect(res.out).toContain('thing core:2  job other-job  namespace ops');
    expect(res.out).toMatch(/#7\s+attempt 1\s+STARTED/);

    const json = await run('status', '--state-directory', state, '--json');
    const reports = json.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { jobId: string });
    expect(reports.map((r) => r.jobId)).toEqual(['fleet-job', 'other-job']);

    const empty = await run('status', '--state-directory', join(tempDir(), 'nothing'));
    expect(empty.code).toBe(0);
    expect(empty.out).toMatch(/^no executions recorded in .*nothing\/executions\n$/);
  });

  it('runs as the installed command', async () => {
    const { configFile } = await stateWithHistory();
    const res = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'ggjobs.js'), 'status', '--config', configFile, '--json'],
      {
        encoding: 'utf8',
      },
    );
    expect(res.status).toBe(0);
    expect(JSON.parse(res.stdout).outbox).toHaveLength(1);
  });
});
