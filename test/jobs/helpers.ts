// Shared helpers of the jobs tests: a logger whose lines can be inspected, temp state directories and
// a valid Config for a listener.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type Config, configSchema } from '../../src/config/schema.js';
import { journalLogFile } from '../../src/jobs/journal.js';
import { createLogger, type Logger } from '../../src/log.js';

export { waitFor } from '../transport/aedes-broker.js';

export interface CapturedLog {
  log: Logger;
  /** Parsed JSON log lines so far. */
  lines(): Array<Record<string, unknown> & { msg: string; level: number }>;
  messages(): string[];
}

export function captureLogger(level = 'debug'): CapturedLog {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const log = createLogger({ level, destination, pretty: false });
  const parsed = () => lines.map((l) => JSON.parse(l));
  return { log, lines: parsed, messages: () => parsed().map((l) => l.msg) };
}

const dirs: string[] = [];

export function tempDir(prefix = 'ggjobs-jobs-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function listenerConfig(overrides: {
  url: string;
  stateDirectory: string;
  thingName?: string;
  jobId?: string;
  namespaceId?: string;
  listen?: Record<string, unknown>;
}): Config {
  return configSchema.parse({
    thingName: overrides.thingName ?? 'core-1',
    region: 'us-east-1',
    jobId: overrides.jobId ?? 'fleet-job',
    namespaceId: overrides.namespaceId ?? 'ggjobs',
    stateDirectory: overrides.stateDirectory,
    listen: {
      requestTimeoutMs: 2_000,
      requestRetries: 2,
      outboxRetryMinMs: 50,
      outboxRetryMaxMs: 400,
      ...overrides.listen,
    },
    transport: { kind: 'mqtt', url: overrides.url, reconnectMinMs: 50, reconnectMaxMs: 300 },
  });
}

/**
 * The latest journal record of an execution as it is on disk (the last line of it in the job's
 * journal.log), read synchronously for waitFor; undefined while there is none.
 */
export function journalRecordOnDisk(
  stateDirectory: string,
  ids: { thingName: string; namespaceId: string; jobId: string },
  executionNumber: number,
): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(journalLogFile(stateDirectory, ids), 'utf8');
  } catch {
    return undefined;
  }
  let found: Record<string, unknown> | undefined;
  for (const line of text.split('\n')) {
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      if (record.executionNumber === executionNumber) found = record;
    } catch {
      // an empty or torn line
    }
  }
  return found;
}
