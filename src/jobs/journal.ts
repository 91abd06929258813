// The durable journal: one small JSON file per execution,
//   <stateDirectory>/executions/<thingName>/<namespaceId>/<jobId>/<executionNumber>.json
// (execution numbers count per thing, so agents of several things may share a state directory)
// written with write-file-atomic (temp file, fsync, rename) and a fsync of the directory, so after a
// crash a file holds either the previous or the next record, never half of one. Writes for the same
// execution are serialized. A file that still cannot be read (disk trouble, hand edits) is moved aside
// as `<name>.corrupt-<time>` with an error log line: the listener then treats that execution as
// unknown, which never leads to running it twice (see decide.ts).
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import { JournalError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ExecutionRecord } from './execution.js';
import type { JobIds } from './topics.js';

export const JOURNAL_FORMAT = 1;

/** Closed (reported/dropped/cancelled) records kept for `ggjobs status`; older ones are deleted. */
export const DEFAULT_KEEP_CLOSED = 50;

const stepSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  resumable: z.boolean(),
  startedAt: z.string(),
});

export const journalFileSchema = z.object({
  format: z.literal(JOURNAL_FORMAT),
  thingName: z.string(),
  jobId: z.string(),
  namespaceId: z.string(),
  updatedAt: z.string(),
  executionNumber: z.number().int().nonnegative(),
  phase: z.enum(['claiming', 'started', 'finished', 'reported', 'dropped', 'cancelled', 'lost']),
  versionNumber: z.number().int().nonnegative().optional(),
  claimId: z.string().optional(),
  claimedAt: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  closedAt: z.string().optional(),
  lastStep: stepSchema.optional(),
  resumedFromStep: z.number().int().nonnegative().optional(),
  outcome: z
    .object({
      status: z.enum(['SUCCEEDED', 'FAILED', 'REJECTED']),
      statusDetails: z.record(z.string(), z.string()),
    })
    .optional(),
  sendAttempts: z.number().int().nonnegative().optional(),
  note: z.string().optional(),
  detailsReduced: z.boolean().optional(),
});
export type JournalFile = z.infer<typeof journalFileSchema>;

export interface JournalProblem {
  file: string;
  problem: string;
}

export function journalDirectory(stateDirectory: string, ids: JobIds): string {
  // Thing names may hold ':', which some file systems do not allow in a name.
  const thing = ids.thingName.replace(/:/g, '%3A');
  return join(resolve(stateDirectory), 'executions', thing, ids.namespaceId, ids.jobId);
}

/** Reads every record of this job; unreadable files are returned as problems (nothing is changed). */
export async function readJournal(
  stateDirectory: string,
  ids: JobIds,
): Promise<{ records: JournalFile[]; problems: JournalProblem[] }> {
  const dir = journalDirectory(stateDirectory, ids);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problems: [] };
    throw new JournalError(`cannot read the journal directory ${dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const records: JournalFile[] = [];
  const problems: JournalProblem[] = [];
  for (const name of names) {
    if (!/^\d+\.json$/.test(name)) continue; // temp files of an interrupted write, moved-aside files
    const file = join(dir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      problems.push({ file, problem: `unreadable: ${(err as Error).message}` });
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      problems.push({ file, problem: `not JSON (${text.length} bytes)` });
      continue;
    }
    const res = journalFileSchema.safeParse(json);
    if (!res.success) {
      const issue = res.error.issues[0];
      problems.push({
        file,
        problem: `unexpected content at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
      });
      continue;
    }
    if (res.data.thingName !== ids.thingName || `${res.data.executionNumber}.json` !== name) {
      problems.push({
        file,
        problem: `belongs to thing ${res.data.thingName}, execution ${res.data.executionNumber}`,
      });
      continue;
    }
    records.push(res.data);
  }
  records.sort((a, b) => a.executionNumber - b.executionNumber);
  return { records, problems };
}

export function toExecutionRecord(file: JournalFile): ExecutionRecord {
  const { format: _f, thingName: _t, jobId: _j, namespaceId: _n, updatedAt: _u, ...record } = file;
  return record;
}

export class Journal {
  private readonly dir: string;
  private readonly queues = new Map<number, Promise<void>>();
  private dirReady: Promise<void> | undefined;

  constructor(
    private readonly opts: { stateDirectory: string; ids: JobIds; log: Logger; keepClosed?: number },
  ) {
    this.dir = journalDirectory(opts.stateDirectory, opts.ids);
  }

  get directory(): string {
    return this.dir;
  }

  /** Loads all records; moves unreadable files aside (logged) and deletes the oldest closed ones. */
  async load(): Promise<ExecutionRecord[]> {
    const { records, problems } = await readJournal(this.opts.stateDirectory, this.opts.ids);
    for (const p of problems) {
      const aside = `${p.file}.corrupt-${Date.now()}`;
      this.opts.log.error(
        { file: p.file, problem: p.problem, movedTo: aside },
        'journal: ignoring unreadable record',
      );
      await rename(p.file, aside).catch(() => undefined);
    }
    const closed = records.filter((r) => ['reported', 'dropped', 'cancelled', 'lost'].includes(r.phase));
    const excess = closed.length - (this.opts.keepClosed ?? DEFAULT_KEEP_CLOSED);
    for (const r of closed.slice(0, Math.max(0, excess))) {
      await rm(this.fileOf(r.executionNumber), { force: true }).catch(() => undefined);
    }
    const pruned = new Set(closed.slice(0, Math.max(0, excess)));
    return records.filter((r) => !pruned.has(r)).map(toExecutionRecord);
  }

  /** Durably writes the record (resolves after fsync). Rejects with JournalError. */
  save(record: ExecutionRecord): Promise<void> {
    const previous = this.queues.get(record.executionNumber) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.write(record));
    this.queues.set(record.executionNumber, next);
    const cleanup = () => {
      if (this.queues.get(record.executionNumber) === next) this.queues.delete(record.executionNumber);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  private fileOf(executionNumber: number): string {
    return join(this.dir, `${executionNumber}.json`);
  }

  private async write(record: ExecutionRecord): Promise<void> {
    const { thingName, jobId, namespaceId } = this.opts.ids;
    const file: JournalFile = {
      format: JOURNAL_FORMAT,
      thingName,
      jobId,
      namespaceId,
      updatedAt: new Date().toISOString(),
      ...record,
    };
    try {
      this.dirReady ??= mkdir(this.dir, { recursive: true }).then(() => undefined);
      await this.dirReady;
      await writeFileAtomic(this.fileOf(record.executionNumber), `${JSON.stringify(file)}\n`, {
        fsync: true,
      });
      await fsyncDirectory(this.dir);
    } catch (err) {
      this.dirReady = undefined;
      throw new JournalError(
        `cannot write the journal record ${this.fileOf(record.executionNumber)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

/** Makes the rename itself durable. Some file systems cannot fsync a directory; that is not an error. */
async function fsyncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
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
