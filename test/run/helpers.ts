// Shared scaffolding for the executor tests: temporary handler directories (removed by cleanup()),
// a recording JobContext, an executor config with short kill grace, a job runner built from it, and a
// bounded poll. Importing this module registers cleanup() after each test of the importing file (as
// @testing-library does), so a test file needs no hook of its own; calling cleanup() again is harmless.
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type ExecutorConfig, executorSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { createJobRunner, type JobRunnerDeps } from '../../src/run/runner.js';
import type { JobContext, JobOutcome, RunJob, StepStart } from '../../src/run/types.js';
import { safeTempDir } from '../support/safe-dir.js';

const created: string[] = [];

afterEach(cleanup);

/**
 * A fresh directory with `mode`, returned by its real path: under a base the executor trusts (see
 * test/support/safe-dir.ts), since /tmp's mode 1777 fails the handler directory ancestor check.
 */
export async function makeTempDir(mode = 0o700, prefix = 'ggjobs-run-'): Promise<string> {
  const dir = await safeTempDir(prefix, mode);
  created.push(dir);
  return dir;
}

export async function writeHandler(dir: string, name: string, script: string, mode = 0o700): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `#!/bin/sh\n${script}\n`);
  await chmod(file, mode);
  return file;
}

export async function cleanup(): Promise<void> {
  for (const dir of created.splice(0)) await rm(dir, { recursive: true, force: true });
}

export function executorConfig(overrides: Record<string, unknown> = {}): ExecutorConfig {
  return executorSchema.parse({ defaultStepTimeoutSeconds: 60, killGraceSeconds: 1, ...overrides });
}

/** createJobRunner with executorConfig(overrides), e.g. jobRunner({ handlerDirectory: dir }). */
export function jobRunner(overrides: Record<string, unknown> = {}, deps: JobRunnerDeps = {}): RunJob {
  return createJobRunner(executorConfig(overrides), deps);
}

export interface RecordingContext {
  context: JobContext;
  started: StepStart[];
  ended: Array<StepStart & { ok: boolean; reason?: string; skipped?: boolean }>;
  controller: AbortController;
}

export function recordingContext(overrides: Partial<JobContext> = {}): RecordingContext {
  const started: StepStart[] = [];
  const ended: RecordingContext['ended'] = [];
  const controller = new AbortController();
  const context: JobContext = {
    jobId: 'maintenance-job',
    namespaceId: 'acme-ops',
    thingName: 'core-device-7',
    executionNumber: 3,
    signal: controller.signal,
    async onStepStart(step) {
      started.push(step);
    },
    onStepEnd(step) {
      ended.push(step);
    },
    log: silentLogger(),
    ...overrides,
  };
  return { context, started, ended, controller };
}

/** A one-step runHandler document. */
export function handlerDocument(handler: string, args: string[] = [], action: Record<string, unknown> = {}) {
  return {
    version: '1.0',
    steps: [{ action: { name: 'Run', type: 'runHandler', input: { handler, args }, ...action } }],
  };
}

export { waitFor } from '../support/wait-for.js';

export function statusOf(outcome: JobOutcome): string {
  return `${outcome.status}: ${outcome.statusDetails.reason ?? ''}`;
}
