import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JournalError } from '../../src/errors.js';
import type { ExecutionRecord } from '../../src/jobs/decide.js';
import { RESERVE_BYTES } from '../../src/jobs/journal-log.js';
import {
  COMPACT_EVERY_LINES,
  Journal,
  journalDirectory,
  journalLogFile,
  readJournal,
} from '../../src/jobs/journal.js';
import { silentLogger } from '../../src/log.js';
import { captureLogger, removeTempDirs, tempDir } from './helpers.js';

const ids = { thingName: 'core-1', jobId: 'fleet-job', namespaceId: 'ggjobs' };
/** Journals the test opened: closed after it (an open log left to the garbage collector makes Node warn). */
const opened: Journal[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((j) => j.close()));
  removeTempDirs();
});
function journalOf(options: ConstructorParameters<typeof Journal>[0]): Journal {
  const journal = new Journal(options);
  opened.push(journal);
  return journal;
}

const started = (n: number): ExecutionRecord => ({
  executionNumber: n,
  phase: 'started',
  versionNumber: 2,
  startedAt: '2025-01-01T00:00:00.000Z',
});

describe('journal', () => {
  it('appends one JSON line per record to executions/<thing>/<namespace>/<job>/journal.log and reads it back', async () => {
    const state = tempDir();
    const journal = journalOf({ stateDirectory: state, ids, log: silentLogger() });
    await journal.save(started(3));
    const file = join(state, 'executions', 'core-1', 'ggjobs', 'fleet-job', 'journal.log');
    const lines = readFileSync(file, 'utf8').split('\n');
    // One record, then blank lines: the space reserved for the next ones.
    expect(lines.filter((l) => l !== '')).toHaveLength(1);
    expect(new Set(lines.slice(1))).toEqual(new Set(['']));
    expect(JSON.parse(lines[0]!)).toMatchObject({
      format: 2,
      thingName: 'core-1',
      jobId: 'fleet-job',
      namespaceId: 'ggjobs',
      executionNumber: 3,
      phase: 'started',
      versionNumber: 2,
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await journalOf({ stateDirectory: state, ids, log: silentLogger() }).load()).toEqual([started(3)]);
  });

  it('creates the empty log (0600) when it loads, before any execution needs it', async () => {
    const state = tempDir();
    const journal = journalOf({ stateDirectory: state, ids, log: silentLogger() });
    expect(await journal.load()).toEqual([]);
    const file = journalLogFile(state, ids);
    expect(readFileSync(file, 'utf8').trim()).toBe('');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await journal.save(started(1));
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
    await journal.close();
  });

  it('writes nothing when a record did not change', async () => {
    const state = tempDir();
    const journal = journalOf({ stateDirectory: state, ids, log: silentLogger() });
    await journal.save(started(3));
    await journal.save(started(3));
    await journal.save({ ...started(3), versionNumber: 3 });
    const text = readFileSync(journalLogFile(state, ids), 'utf8');
    expect(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).versionNumber),
    ).toEqual([2, 3]);
  });

  it('ignores a last line cut short by a crash (loading rewrites the log without it)', async () => {
    const state = tempDir();
    const journal = journalOf({ stateDirectory: state, ids, log: silentLogger() });
    await journal.save({ executionNumber: 1, phase: 'claiming', versionNumber: 1 });
    await journal.save(started(1));
    appendFileSync(journalLogFile(state, ids), '{"format":2,"thingName":"core-1","execu');
    const captured = captureLogger();
    const reloaded = journalOf({ stateDirectory: state, ids, log: captured.log });
    expect(await reloaded.load()).toEqual([started(1)]);
    expect(captured.messages()).not.toContain('journal: ignoring unreadable record');
    await reloaded.save({
      ...started(1),
      phase: 'finished',
      outcome: { status: 'SUCCEEDED', statusDetails: {} },
    });
    await reloaded.save({
      ...started(1),
      phase: 'reported',
      outcome: { status: 'SUCCEEDED', statusDetails: {} },
    });
    const lines = readFileSync(journalLogFile(state, ids), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).phase)).toEqual(['started', 'finished', 'reported']);
  });

  it('compacts the log when an execution ends after COMPACT_EVERY_LINES appended lines, keeping the latest record of each', async () => {
    const state = tempDir();
    const journal = journalOf({ stateDirectory: state, ids, log: silentLogger() });
    const phases = ['claiming', 'started', 'finished', 'reported'] as const;
    const lineCounts: number[] = [];
    const executions = Math.ceil(COMPACT_EVERY_LINES / phases.length) + 2;
    for (let n = 1; n <= executions; n++) {
      for (const phase of phases) await journal.save({ ...started(n), phase });
      lineCounts.push(readFileSync(journalLogFile(state, ids), 'utf8').trim().split('\n').length);
    }
    const compactedAt = Math.ceil(COMPACT_EVERY_LINES / phases.length);
    // Growing by one line per record until the execution that reaches the threshold ends...
    expect(lineCounts.slice(0, compactedAt - 1)).toEqual(
      Array.from({ length: compactedAt - 1 }, (_, i) => (i + 1) * phases.length),
    );
    // ...which leaves one line per execution; then it grows again.
    expect(lineCounts[compactedAt - 1]).toBe(compactedAt);
    expect(lineCounts[compactedAt]).toBe(compactedAt + phases.length);
    const reloaded = await journalOf({ stateDirectory: state, ids, log: silentLogger() }).load();
    expect(reloaded.map((r) => [r.executionNumber, r.phase])).toEqual(
      Array.from({ length: executions }, (_, i) => [i + 1, 'reported']),
    );
  });

  it('writes into the space it reserves, grows it when full, and finds its end again after a restart', async () => {
    const state = tempDir();
    const file = journalLogFile(state, ids);
    const journal = journalOf({ stateDirectory: state, ids, log: silentLogger() });
    await journal.load();
    const reserved = statSync(file).size;
    expect(reserved).toBe(RESERVE_BYTES);
    // Fill the reserve and go past it: every record lands after the one before it.
    const big = (n: number): ExecutionRecord => ({ ...started(n), note: 'x'.repeat(2_000) });
    const count = Math.ceil(RESERVE_BYTES / 2_000) + 3;
    for (let n = 1; n <= count; n++) await journal.save(big(n));
    expect(statSync(file).size).toBeGreaterThan(reserved);
    await journal.close();
    // A second agent process opens it where the records end (no load: it appends at once).
    const again = journalOf({ stateDirectory: state, ids, log: silentLogger() });
    await again.save(started(count + 1));
    await again.close();
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.map((l) => JSON.parse(l).executionNumber)).toEqual(
      Array.from({ length: count + 1 }, (_, i) => i + 1),
    );
  });

  it('treats a record cut short inside the reserved space as a torn write, and never glues the next one to it', async () => {
    const state = tempDir();
    const file = journalLogFile(state, ids);
    const journal = journalOf({ stateDirectory: state, ids, log: silentLogger() });
    await journal.load();
    await journal.save(started(1));
    await journal.close();
    // Power lost while the next record was written: its first bytes are on disk, the reserve after them.
    const text = readFileSync(file, 'utf8');
    const end = text.indexOf('\n') + 1;
    const torn = '{"format":2,"thingName":"core-1","execu';
    writeFileSync(file, text.slice(0, end) + torn + text.slice(end + torn.length));
    const read = await readJournal(state, ids);
    expect(read).toEqual({ records: [expect.objectContaining(started(1))], problems: [] });
    // Appending without a load first (the torn bytes are still there): a newline closes them.
    const after = journalOf({ stateDirectory: state, ids, log: silentLogger() });
    await after.save(started(2));
    await after.close();
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines).toEqual([
      expect.stringContaining('"executionNumber":1'),
      torn,
      expect.stringContaining('"executionNumber":2'),
    ]);
  });

  it('folds a journal of the earlier layout (one file per execution) into the log', async () => {
    const state = tempDir();
    const dir = journalDirectory(state, ids);
    mkdirSync(dir, { recursive: true });
    const legacy = {
      format: 1,
      thingName: 'core-1',
      jobId: 'fleet-job',
      namespaceId: 'ggjobs',
      updatedAt: 'x',
    };
    writeFileSync(join(dir, '4.json'), JSON.stringify({ ...legacy, ...started(4) }));
    writeFileSync(join(dir, '5.json'), JSON.stringify({ ...legacy, executionNumber: 5, phase: 'reported' }));
    expect((await readJournal(state, ids)).records.map((r) => r.executionNumber)).toEqual([4, 5]);
    const records = await journalOf({ stateDirectory: state, ids, log: silentLogger() }).load();
    expect(records).toEqual([started(4), { executionNumber: 5, phase: 'reported' }]);
    expect(readdirSync(dir)).toEqual(['journal.log']);
  });

  it('keeps the last of several quick writes for one execution', async () => {
    const state = tempDir();
    const journal = journalOf({ stateDirectory: state, ids, log: silentLogger() });
    const writes = [1, 2, 3, 4, 5].map((v) => journal.save({ ...started(1), versionNumber: v }));
    await Promise.all(writes);
    const [record] = await journal.load();
    expect(record?.versionNumber).toBe(5);
    // No temp files left behind.
    expect(readdirSync(journalDirectory(state, ids))).toEqual(['journal.log']);
  });

  it('keeps unreadable records aside with an error log line and loads the others', async () => {
    const state = tempDir();
    const journal = journalOf({ stateDirectory: state, ids, log: silentLogger() });
    await journal.save(started(1));
    const dir = journalDirectory(state, ids);
    // Damaged lines after the record (where the journal writes, into its reserved space), and damaged
    // files of the earlier layout.
    const file = journalLogFile(state, ids);
    const text = readFileSync(file, 'utf8');
    const end = text.indexOf('\n') + 1;
    const damaged = `{"format":2,"thingName":"core-1","exec\n${JSON.stringify({ format: 2, hello: 'world' })}\n`;
    writeFileSync(file, text.slice(0, end) + damaged + text.slice(end + damaged.length));
    writeFileSync(join(dir, '2.json'), '{"format":1,"thingName":"core-1","exec');
    writeFileSync(join(dir, '4.json.1234abcd'), 'partial temp file of an interrupted write');
    const captured = captureLogger();
    const records = await journalOf({ stateDirectory: state, ids, log: captured.log }).load();
    expect(records.map((r) => r.executionNumber)).toEqual([1]);
    const errors = captured.lines().filter((l) => l.msg === 'journal: ignoring unreadable record');
    expect(errors.map((l) => l.file).sort()).toEqual([
      join(dir, '2.json'),
      `${journalLogFile(state, ids)}:2`,
      `${journalLogFile(state, ids)}:3`,
    ]);
    expect(errors.every((l) => l.level === 50)).toBe(true);
    const names = readdirSync(dir).sort();
    expect(names.filter((n) => n.includes('.corrupt-')).length).toBeGreaterThanOrEqual(2);
    expect(names).toContain('4.json.1234abcd');
    // Loading again is quiet: the bad records are out of the way.
    const again = captureLogger();
    await journalOf({ stateDirectory: state, ids, log: again.log }).load();
    expect(again.messages()).not.toContain('journal: ignoring unreadable record');
  });

  it('keeps the records of several things sharing a state directory apart', async () => {
    const state = tempDir();
    const other = { ...ids, thingName: 'site:7:core' };
    await journalOf({ stateDirectory: state, ids: other, log: silentLogger() }).save({
      ...started(1),
      versionNumber: 7,
    });
    await journalOf({ stateDirectory: state, ids, log: silentLogger() }).save(started(1));
    expect(journalDirectory(state, other)).toBe(
      join(state, 'executions', 'site%3A7%3Acore', 'ggjobs', 'fleet-job'),
    );
    expect((await readJournal(state, ids)).records.map((r) => [r.thingName, r.versionNumber])).toEqual([
      ['core-1', 2],
    ]);
    expect((await readJournal(state, other)).records.map((r) => [r.thingName, r.versionNumber])).toEqual([
      ['site:7:core', 7],
    ]);
  });

  it("treats a record copied into another thing's directory as unreadable", async () => {
    const state = tempDir();
    await journalOf({ stateDirectory: state, ids, log: silentLogger() }).save(started(1));
    const record = readFileSync(journalLogFile(state, ids), 'utf8');
    const otherDir = journalDirectory(state, { ...ids, thingName: 'other' });
    mkdirSync(otherDir, { recursive: true });
    writeFileSync(join(otherDir, 'journal.log'), record);
    const { records, problems } = await readJournal(state, { ...ids, thingName: 'other' });
    expect(records).toEqual([]);
    expect(problems[0]?.problem).toContain('belongs to thing core-1');
  });

  it('deletes the oldest closed records beyond the ones it keeps, never open ones', async () => {
    const state = tempDir();
    const journal = journalOf({ stateDirectory: state, ids, log: silentLogger(), keepClosed: 2 });
    for (const n of [1, 2, 3, 4]) await journal.save({ executionNumber: n, phase: 'reported' });
    await journal.save({
      executionNumber: 5,
      phase: 'finished',
      outcome: { status: 'FAILED', statusDetails: {} },
    });
    await journal.save({ executionNumber: 0, phase: 'started' });
    const records = await journal.load();
    expect(records.map((r) => r.executionNumber)).toEqual([0, 3, 4, 5]);
    const onDisk = readFileSync(journalLogFile(state, ids), 'utf8').trim().split('\n');
    expect(onDisk.map((l) => JSON.parse(l).executionNumber)).toEqual([0, 3, 4, 5]);
  });

  it('fails a write with JournalError naming the file when the state directory is unusable', async () => {
    const state = tempDir();
    const notADir = join(state, 'file');
    writeFileSync(notADir, 'x');
    const journal = journalOf({ stateDirectory: notADir, ids, log: silentLogger() });
    const err = await journal.save(started(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JournalError);
    expect((err as Error).message).toContain(
      join(notADir, 'executions', 'core-1', 'ggjobs', 'fleet-job', 'journal.log'),
    );
  });

  it('reads nothing from a state directory that does not exist yet', async () => {
    const state = join(tempDir(), 'not-yet');
    expect(await readJournal(state, ids)).toEqual({ records: [], problems: [] });
    mkdirSync(state);
    expect(await journalOf({ stateDirectory: state, ids, log: silentLogger() }).load()).toEqual([]);
  });
});
