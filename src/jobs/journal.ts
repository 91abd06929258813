// The durable journal of one job: an append-only log of JSON lines (journal-read.ts describes the
// layout). Every change of an execution appends its whole record and is durable before save()
// resolves (one O_DSYNC write into space reserved ahead: journal-log.ts), so after a crash the log
// holds every record that was acknowledged; a last line cut short by the crash is ignored. Nothing is
// written when a record did not change, nothing is chowned or chmodded (the file is created 0600 by
// the agent's user).
//
// When an execution ends (reported, dropped, cancelled, lost) and at least COMPACT_EVERY_LINES lines
// were appended since the last compaction, the log is compacted: the latest record of each
// execution, keeping only the newest `keepClosed` closed ones, is written to a temporary file, synced
// and renamed over the log (and the directory synced), so the log stays small. Not compacting after
// every execution spares each one a file creation, a rename and a directory fsync; recovery reads
// the latest line of each execution either way. Loading also folds a legacy file-per-execution
// journal into the log. Unreadable records are logged as errors and kept aside
// (`<file>.corrupt-<time>`): the listener then treats that execution as unknown, which never leads
// to running it twice (see decide.ts).
import { copyFile, type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { JournalError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ExecutionRecord } from './execution.js';
import { JournalLog } from './journal-log.js';
import {
  CLOSED_PHASES,
  JOURNAL_FORMAT,
  type JournalFile,
  journalDirectory,
  LOG_FILE_NAME,
  readJournalContents,
  toExecutionRecord,
} from './journal-read.js';
import type { JobIds } from './topics.js';

export {
  JOURNAL_FORMAT,
  type JournalFile,
  type JournalProblem,
  journalDirectory,
  journalFileSchema,
  journalLogFile,
  readJournal,
  toExecutionRecord,
} from './journal-read.js';

/** Closed (reported/dropped/cancelled/lost) records kept for `ggjobs status`; older ones are dropped. */
export const DEFAULT_KEEP_CLOSED = 50;
/** Lines appended since the last compaction before an execution's end compacts the log (~a dozen executions). */
export const COMPACT_EVERY_LINES = 64;

export class Journal {
  private readonly dir: string;
  private readonly logFile: string;
  /** The latest record of each execution, as written (what compaction rewrites). */
  private readonly latest = new Map<number, JournalFile>();
  /** Each execution's last written record without its time: an equal one is not written again. */
  private readonly written = new Map<number, string>();
  private log: JournalLog | undefined;
  /** The log's directory entry is known to be synced (created and fsynced, or renamed and fsynced). */
  private entryDurable = false;
  private ready: Promise<void> | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** Lines appended to the log since it was last compacted (or found on disk). */
  private appendedLines = 0;

  constructor(
    private readonly opts: { stateDirectory: string; ids: JobIds; log: Logger; keepClosed?: number },
  ) {
    this.dir = journalDirectory(opts.stateDirectory, opts.ids);
    this.logFile = join(this.dir, LOG_FILE_NAME);
  }

  get directory(): string {
    return this.dir;
  }

  /**
   * Loads all records; unreadable ones are logged and kept aside, a legacy journal is folded into
   * the log, and the log is compacted (the oldest closed records beyond keepClosed are dropped).
   */
  load(): Promise<ExecutionRecord[]> {
    return this.enqueue(async () => {
      const contents = await readJournalContents(this.opts.stateDirectory, this.opts.ids);
      for (const p of contents.problems) {
        const file = p.file.replace(/:\d+$/, '');
        const aside = `${file}.corrupt-${Date.now()}`;
        this.opts.log.error(
          { file: p.file, problem: p.problem, movedTo: aside },
          'journal: ignoring unreadable record',
        );
        // A legacy file is moved aside; the log is copied aside (compaction rewrites it without the line).
        if (file === this.logFile) await copyFile(file, aside).catch(() => undefined);
        else await rename(file, aside).catch(() => undefined);
      }
      this.latest.clear();
      this.written.clear();
      for (const record of contents.records) this.remember(record);
      if (contents.records.length > 0 || contents.logLines > 0) await this.compact();
      for (const file of contents.legacyFiles) await rm(file, { force: true }).catch(() => undefined);
      // Created and opened now, while the agent starts: the first execution's first record is then one
      // write, not a mkdir, an open and a directory fsync on its way to the claim. (Best effort: a
      // failure here is reported by that first save, as before.)
      await this.openLog().catch(() => undefined);
      this.ready = Promise.resolve();
      return [...this.latest.values()]
        .sort((a, b) => a.executionNumber - b.executionNumber)
        .map(toExecutionRecord);
    });
  }

  /** Durably appends the record (resolves once it is on disk; at once when nothing changed). Rejects with JournalError. */
  save(record: ExecutionRecord): Promise<void> {
    return this.enqueue(() => this.append(record));
  }

  /** Closes the log file (the journal reopens it on the next save). */
  async close(): Promise<void> {
    await this.enqueue(async () => {
      await this.log?.close().catch(() => undefined);
      this.log = undefined;
    });
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.catch(() => undefined).then(work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private remember(file: JournalFile): void {
    this.latest.set(file.executionNumber, file);
    const { updatedAt: _u, ...key } = file;
    this.written.set(file.executionNumber, JSON.stringify(key));
  }

  /** Before the first write without load(): the records already in the log (compaction keeps them). */
  private prepare(): Promise<void> {
    this.ready ??= readJournalContents(this.opts.stateDirectory, this.opts.ids).then(
      ({ records, logLines }) => {
        for (const record of records) if (!this.latest.has(record.executionNumber)) this.remember(record);
        this.appendedLines = logLines;
      },
      () => undefined,
    );
    return this.ready;
  }

  private async append(record: ExecutionRecord): Promise<void> {
    const { thingName, jobId, namespaceId } = this.opts.ids;
    const file: JournalFile = {
      format: JOURNAL_FORMAT,
      thingName,
      jobId,
      namespaceId,
      updatedAt: new Date().toISOString(),
      ...record,
    };
    const { updatedAt: _u, ...key } = file;
    if (this.written.get(record.executionNumber) === JSON.stringify(key)) return; // nothing changed
    try {
      await this.prepare();
      const log = await this.openLog();
      log.append(Buffer.from(`${JSON.stringify(file)}\n`));
    } catch (err) {
      await this.log?.close().catch(() => undefined);
      this.log = undefined;
      throw new JournalError(`cannot write the journal ${this.logFile}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.remember(file);
    this.appendedLines += 1;
    if (CLOSED_PHASES.has(record.phase) && this.appendedLines >= COMPACT_EVERY_LINES) {
      await this.compact().catch((err: Error) => {
        // The appended record is durable; a failed compaction only leaves the log longer.
        this.opts.log.warn({ err: err.message }, 'journal: compaction failed');
      });
    }
  }

  private async openLog(): Promise<JournalLog> {
    if (this.log) return this.log;
    await mkdir(this.dir, { recursive: true });
    this.log = await JournalLog.open(this.logFile);
    // A new file's directory entry must be durable too (after a compaction it already is).
    if (!this.entryDurable) await fsyncDirectory(this.dir);
    this.entryDurable = true;
    return this.log;
  }

  /** Rewrites the log with the latest record of each execution (the newest keepClosed closed ones). */
  private async compact(): Promise<void> {
    const all = [...this.latest.values()].sort((a, b) => a.executionNumber - b.executionNumber);
    const closed = all.filter((r) => CLOSED_PHASES.has(r.phase));
    const excess = closed.length - (this.opts.keepClosed ?? DEFAULT_KEEP_CLOSED);
    for (const r of closed.slice(0, Math.max(0, excess))) {
      this.latest.delete(r.executionNumber);
      this.written.delete(r.executionNumber);
    }
    const kept = all.filter((r) => this.latest.has(r.executionNumber));
    const temp = `${this.logFile}.compact-${process.pid}`;
    await mkdir(this.dir, { recursive: true });
    // Written whole (with its reserve) and durable before the rename: once renamed over the log it is
    // the log, and stays open for the next record (no close, mkdir and reopen per execution).
    let out: JournalLog | undefined;
    let renamed = false;
    try {
      out = await JournalLog.create(temp, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
      await this.log?.close().catch(() => undefined);
      this.log = undefined;
      await rename(temp, this.logFile);
      renamed = true;
      await fsyncDirectory(this.dir);
      this.entryDurable = true;
      this.log = out;
      this.appendedLines = 0;
    } finally {
      if (out && this.log !== out) await out.close().catch(() => undefined);
      if (!renamed) await rm(temp, { force: true }).catch(() => undefined);
    }
  }
}

/** Makes a rename or a new file durable. Some file systems cannot fsync a directory; that is not an error. */
async function fsyncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw err;
  } finally {
    await handle?.close();
  }
}
