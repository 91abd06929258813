// The durable journal records one execution costs, read back from the log as a crash would leave it:
// `claiming` before the claim, `started` (naming the first step when it is not resumable) before the
// document runs, one record per later step, `finished` before the final status, then `reported`. The
// agent runs the real executor against the local stack; documents are created with the real AWS SDK.
import { readFileSync } from 'node:fs';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ListenerEvent, startListener } from '../../src/jobs/listener.js';
import { journalLogFile } from '../../src/jobs/journal.js';
import { silentLogger } from '../../src/log.js';
import { createJobRunner } from '../../src/run/runner.js';
import { createTransport } from '../../src/transport/index.js';
import { safeTempDir } from '../support/safe-dir.js';
import { listenerConfig, removeTempDirs, tempDir, waitFor } from './helpers.js';
import { startJobsStack } from './stack.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  removeTempDirs();
});

interface LogLine {
  phase: string;
  lastStep?: { index: number; name: string; resumable: boolean };
  outcome?: { status: string };
}

/** Runs `document` as one execution and returns the journal's lines for it, oldest first. */
async function journalLinesOf(document: unknown, handlers: Record<string, string>): Promise<LogLine[]> {
  const js = await startJobsStack('both');
  cleanups.push(() => js.close());
  const group = await js.thingInGroup('core-1');
  const handlerDirectory = await safeTempDir('ggjobs-handlers-');
  cleanups.push(() => rm(handlerDirectory, { recursive: true, force: true }));
  await chmod(handlerDirectory, 0o700);
  for (const [name, body] of Object.entries(handlers)) {
    await writeFile(join(handlerDirectory, name), `#!/bin/sh\n${body}\n`, { mode: 0o700 });
  }
  const config = listenerConfig({ url: js.stack.mqttUrl, stateDirectory: tempDir(), jobId: 'job-w' });
  const log = silentLogger();
  const transport = createTransport(config.transport, { thingName: config.thingName, log });
  const events: ListenerEvent[] = [];
  const runJob = createJobRunner({ ...config.executor, handlerDirectory });
  const listener = await startListener({ config, transport, runJob, log, onEvent: (e) => events.push(e) });
  cleanups.push(() => listener.stop({ graceMs: 0, flushMs: 200 }));
  await waitFor(() => events.some((e) => e.type === 'synced'), 'first describe');
  await js.createJob('job-w', group, document);
  await waitFor(
    () => events.some((e) => e.type === 'transition' && e.to === 'reported'),
    'final status accepted',
  );
  await listener.stop({ graceMs: 0, flushMs: 200 });
  return readFileSync(journalLogFile(config.stateDirectory, config), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as LogLine)
    .map(({ phase, lastStep, outcome }) => ({
      phase,
      ...(lastStep
        ? { lastStep: { index: lastStep.index, name: lastStep.name, resumable: lastStep.resumable } }
        : {}),
      ...(outcome ? { outcome: { status: outcome.status } } : {}),
    }));
}

const step = (name: string, handler: string) => ({
  action: { name, type: 'runHandler', input: { handler } },
});

describe('journal writes per execution', () => {
  it('one step: claiming, started naming the step, finished, reported (no separate step record)', async () => {
    const lines = await journalLinesOf(
      { version: '1.0', steps: [step('install', 'ok.sh')] },
      { 'ok.sh': 'exit 0' },
    );
    const install = { index: 0, name: 'install', resumable: false };
    expect(lines).toEqual([
      { phase: 'claiming' },
      { phase: 'started', lastStep: install },
      { phase: 'finished', lastStep: install, outcome: { status: 'SUCCEEDED' } },
      { phase: 'reported', lastStep: install, outcome: { status: 'SUCCEEDED' } },
    ]);
  });

  it('two steps: the second is journaled before it runs', async () => {
    const lines = await journalLinesOf(
      { version: '1.0', steps: [step('fetch', 'ok.sh'), step('install', 'ok.sh')] },
      { 'ok.sh': 'exit 0' },
    );
    expect(lines.map((l) => [l.phase, l.lastStep?.name])).toEqual([
      ['claiming', undefined],
      ['started', 'fetch'],
      ['started', 'install'],
      ['finished', 'install'],
      ['reported', 'install'],
    ]);
  });

  it('a document the executor refuses: REJECTED, and its finished record names no step', async () => {
    const lines = await journalLinesOf(
      { version: '1.0', steps: [step('install', 'missing.sh')] },
      { 'ok.sh': 'exit 0' },
    );
    expect(lines).toEqual([
      { phase: 'claiming' },
      { phase: 'started', lastStep: { index: 0, name: 'install', resumable: false } },
      { phase: 'finished', outcome: { status: 'REJECTED' } },
      { phase: 'reported', outcome: { status: 'REJECTED' } },
    ]);
  });
});
